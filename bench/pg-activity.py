#!/usr/bin/env python3
"""Where a PostgreSQL server's backends spend a bench: `python3 bench/pg-activity.py [seconds=30]`.

Reads pg_stat_activity every 20 ms for `seconds` (through one psql session, PG* variables or the
local server) and prints how often each statement (its first 140 characters) was seen active, by
wait event: `cpu` when it waited on nothing. Run it beside a bench, e.g. bench/broadcast/run.ts.
"""
import collections
import subprocess
import sys
import time

seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 30.0
QUERY = (
    "SELECT coalesce(left(regexp_replace(query, '\\s+', ' ', 'g'), 140), '') || ' | ' "
    "|| coalesce(wait_event_type || ':' || wait_event, 'cpu') FROM pg_stat_activity "
    "WHERE state = 'active' AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
)
psql = subprocess.Popen(
    ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-At", "-q"],
    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
)
seen = collections.Counter()
samples = 0
end = time.time() + seconds
while time.time() < end:
    psql.stdin.write(QUERY + ";\nSELECT '---';\n")
    psql.stdin.flush()
    for line in iter(psql.stdout.readline, ""):
        line = line.rstrip("\n")
        if line == "---":
            break
        if line:
            seen[line] += 1
    samples += 1
    time.sleep(0.02)
psql.stdin.close()
psql.wait()
print(f"samples {samples}")
for text, count in seen.most_common(30):
    print(count, text)
