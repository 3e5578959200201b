// duckdb_job.js — the reference job with DuckDB (npm @duckdb/node-api), for bench/run.sh.
//
//   node duckdb_job.js job THREADS INPUT.csv OUTPUT.parquet   the timed job: read_csv -> filter
//                                                             -> select -> COPY TO Parquet
//   node duckdb_job.js full THREADS INPUT.csv OUTPUT.parquet  the full conversion (issue 17):
//                                                             every column, types detected
//   node duckdb_job.js count FILE.parquet                     rows of a Parquet file (read back)
//   node duckdb_job.js version                                the DuckDB library version
//
// DuckDB has no Avro writer without downloading an extension at run time, so its output is
// Parquet (zstd-free default: snappy). Prints the row count on stdout; exits 1 with the error on
// stderr.
"use strict";
const { DuckDBInstance, version } = require("@duckdb/node-api");

function sqlString(s) {
  return "'" + String(s).replace(/'/g, "''") + "'";
}

async function main() {
  const [cmd, ...args] = process.argv.slice(2);
  if (cmd === "version") {
    console.log(version());
    return;
  }
  if (cmd === "count" && args.length === 1) {
    const db = await DuckDBInstance.create(":memory:");
    const con = await db.connect();
    const r = await con.runAndReadAll(`SELECT count(*)::BIGINT FROM read_parquet(${sqlString(args[0])})`);
    console.log(String(r.getRows()[0][0]));
    return;
  }
  if (cmd === "full" && args.length === 3) {
    const [threads, input, output] = args;
    const db = await DuckDBInstance.create(":memory:", { threads: String(threads) });
    const con = await db.connect();
    const r = await con.runAndReadAll(
      `COPY (SELECT * FROM read_csv(${sqlString(input)})) TO ${sqlString(output)} (FORMAT parquet)`
    );
    console.log(String(r.rowsChanged));
    return;
  }
  if (cmd === "job" && args.length === 3) {
    const [threads, input, output] = args;
    const db = await DuckDBInstance.create(":memory:", { threads: String(threads) });
    const con = await db.connect();
    const r = await con.runAndReadAll(
      `COPY (SELECT pickup_datetime, passenger_count, trip_time_in_secs ` +
        `FROM read_csv(${sqlString(input)}) WHERE passenger_count > 3) ` +
        `TO ${sqlString(output)} (FORMAT parquet)`
    );
    console.log(String(r.rowsChanged));
    return;
  }
  console.error("usage: node duckdb_job.js job THREADS IN.csv OUT.parquet | count FILE.parquet | version");
  process.exit(2);
}

main().catch((e) => {
  console.error(String(e && e.stack ? e.stack : e));
  process.exit(1);
});
