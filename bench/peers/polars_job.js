// polars_job.js — the reference job with nodejs-polars, for bench/run.sh.
//
//   node polars_job.js scan|read INPUT.csv OUTPUT.avro
//   node polars_job.js count FILE.avro       rows of an Avro file read back with pl.readAvro
//
// scan: scanCSV (lazy) -> filter -> select -> collect -> writeAvro; read: readCSV (eager), same.
// Threads come from POLARS_MAX_THREADS (set by the caller before the process starts).
// Datetimes are parsed (tryParseDates) so the output types match csvavro's: a timestamp, two
// integers. Prints the number of rows written on stdout; exits 1 with the error on stderr.
"use strict";
const pl = require("nodejs-polars");

const [mode, input, output] = process.argv.slice(2);
if (mode === "count" && input) {
  try {
    console.log(pl.readAvro(input).height);
    process.exit(0);
  } catch (e) {
    console.error(String(e));
    process.exit(1);
  }
}
if (!["scan", "read"].includes(mode) || !input || !output) {
  console.error("usage: node polars_job.js scan|read INPUT.csv OUTPUT.avro | count FILE.avro");
  process.exit(2);
}
try {
  const opts = { tryParseDates: true, parseDates: true }; // readCSV and scanCSV spellings
  const cols = ["pickup_datetime", "passenger_count", "trip_time_in_secs"];
  let df;
  if (mode === "scan") {
    df = pl.scanCSV(input, opts).filter(pl.col("passenger_count").gt(3)).select(cols).collectSync();
  } else {
    df = pl.readCSV(input, opts).filter(pl.col("passenger_count").gt(3)).select(cols);
  }
  df.writeAvro(output);
  console.log(df.height);
} catch (e) {
  console.error(String(e && e.stack ? e.stack : e));
  process.exit(1);
}
