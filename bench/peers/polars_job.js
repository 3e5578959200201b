// polars_job.js — the reference job with nodejs-polars, for bench/run.sh.
//
//   node polars_job.js scan|read INPUT.csv OUTPUT.avro
//   node polars_job.js count FILE.avro       rows of an Avro file read back with pl.readAvro
//   node polars_job.js full-scan|full-read INPUT.csv OUTPUT.avro
//                                            the full conversion (issue 17): every column, typed
//                                            by Polars (tryParseDates / parseDates), no filter
//
// scan: scanCSV (lazy) -> filter -> select -> collect -> writeAvro; read: readCSV (eager), same.
// Threads come from POLARS_MAX_THREADS (set by the caller before the process starts).
// The output types match csvavro's: a timestamp (local-timestamp-micros), two integers. Prints the number of rows written on stdout; exits 1 with the error on stderr.
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
if ((mode === "full-scan" || mode === "full-read") && input && output) {
  try {
    const df =
      mode === "full-scan"
        ? pl.scanCSV(input, { parseDates: true }).collectSync()
        : pl.readCSV(input, { tryParseDates: true });
    df.writeAvro(output);
    console.log(df.height);
    process.exit(0);
  } catch (e) {
    console.error(String(e && e.stack ? e.stack : e));
    process.exit(1);
  }
}
if (!["scan", "read"].includes(mode) || !input || !output) {
  console.error("usage: node polars_job.js scan|read INPUT.csv OUTPUT.avro | count FILE.avro");
  process.exit(2);
}
try {
  // Datetimes are parsed after the filter, with an explicit format: Polars' fastest way to the
  // same typed output (parseDates on the whole file parses both datetime columns of every row,
  // about 3x slower). strptime of this version accepts Datetime("ms") for "a datetime"; the
  // time unit comes out as microseconds, as csvavro's local-timestamp-micros.
  const pick = [
    pl.col("pickup_datetime").str.strptime(pl.DataType.Datetime("ms"), "%Y-%m-%d %H:%M:%S"),
    pl.col("passenger_count"),
    pl.col("trip_time_in_secs"),
  ];
  let df;
  if (mode === "scan") {
    df = pl.scanCSV(input).filter(pl.col("passenger_count").gt(3)).select(pick).collectSync();
  } else {
    df = pl.readCSV(input).filter(pl.col("passenger_count").gt(3)).select(pick);
  }
  df.writeAvro(output);
  console.log(df.height);
} catch (e) {
  console.error(String(e && e.stack ? e.stack : e));
  process.exit(1);
}
