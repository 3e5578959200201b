#!/usr/bin/python3
"""Writes a CSV shaped like the NYC TLC 2013 trip_data files: the real header (a space after
every comma), CRLF line ends, N rows (seeded). A few medallions are quoted and hold a comma or
a line break, so that record boundaries differ from line boundaries.

  gen_tlc.py ROWS SEED > trip_data_1.csv
"""
import random
import sys

HEADER = ("medallion, hack_license, vendor_id, rate_code, store_and_fwd_flag, pickup_datetime, "
          "dropoff_datetime, passenger_count, trip_time_in_secs, trip_distance, pickup_longitude, "
          "pickup_latitude, dropoff_longitude, dropoff_latitude")

rows, seed = int(sys.argv[1]), int(sys.argv[2])
rnd = random.Random(seed)
out = sys.stdout
out.write(HEADER + "\r\n")
for i in range(rows):
    med = "%032X" % rnd.getrandbits(128)
    if i % 97 == 5:
        med = '"%s,\r\nX"' % med[:16]
    day, h, m, s = 1 + rnd.randrange(31), rnd.randrange(24), rnd.randrange(60), rnd.randrange(60)
    secs = rnd.randrange(0, 3600)
    pc = rnd.choice(["1", "1", "1", "2", "3", "4", "5", "6", "0"])
    out.write(",".join([
        med, "%032X" % rnd.getrandbits(128), rnd.choice(["CMT", "VTS"]), "1",
        rnd.choice(["N", "Y", ""]),
        "2013-01-%02d %02d:%02d:%02d" % (day, h, m, s),
        "2013-01-%02d %02d:%02d:%02d" % (day, h, (m + 7) % 60, s),
        pc, str(secs), "%.2f" % (rnd.random() * 20),
        "%.6f" % (-74 + rnd.random()), "%.6f" % (40.5 + rnd.random()),
        "%.6f" % (-74 + rnd.random()), "%.6f" % (40.5 + rnd.random())]) + "\r\n")
