"""Peers of `kqlc bench --suite hunting`: each hunting query written for
DuckDB, chdb (ClickHouse) and polars, equivalent to the KQL in hunting.rs.

Run by `kqlc bench` (one process per peer and query, so peak RSS is per
query) as:

    python peers.py PEER QUERY FILE ALLOW_LIST REPEAT THREADS ROWS_OUT

It runs the query REPEAT times, keeps the fastest (time inside Python:
interpreter start and imports are not counted, which favours the peers),
writes the result rows canonically (one row per line, values separated by
tabs, null as the empty string, sorted) to ROWS_OUT, and prints one JSON
line: {"seconds": ..., "version": ...}. A peer it cannot import exits with
status 3 and "not installed" on stderr.

KQL semantics kept in every peer: `tostring(missing)` is "", `startswith`
ignores case, `==` and `!in` are case-sensitive, `bin(Timestamp, 1h)`
floors to the hour and prints as 2024-05-27T11:00:00Z.
"""

import json
import sys
import time

AKS = "Azure Kubernetes Service"
SA = "system:serviceaccount:"


def duckdb_queries(f, allow):
    def src(columns):
        cols = ", ".join(f"'{k}': '{v}'" for k, v in columns.items())
        return f"read_json('{f}', format='newline_delimited', columns={{{cols}}})"

    user = "coalesce(RawEventData.User.username, '')"
    return {
        "group-by": f"""
            SELECT DataSource, OperationName, count(*) AS n
            FROM {src({'DataSource': 'VARCHAR', 'OperationName': 'VARCHAR'})}
            GROUP BY ALL""",
        "nested-dcount": f"""
            SELECT coalesce(RawEventData.ObjectRef.resource, '') AS resource, OperationName,
                   count(*) AS n, count(DISTINCT {user}) AS users
            FROM {src({'DataSource': 'VARCHAR', 'OperationName': 'VARCHAR',
                       'RawEventData': 'STRUCT(User STRUCT(username VARCHAR), ObjectRef STRUCT(resource VARCHAR))'})}
            WHERE DataSource = '{AKS}'
            GROUP BY ALL""",
        "nested-startswith": f"""
            SELECT {user} AS user, count(*) AS n
            FROM {src({'RawEventData': 'STRUCT(User STRUCT(username VARCHAR))'})}
            WHERE starts_with(lower({user}), '{SA}')
            GROUP BY ALL""",
        "mv-expand": f"""
            SELECT image, count(*) AS n FROM (
                SELECT coalesce(unnest(RawEventData.RequestObject.spec.containers).image, '') AS image
                FROM {src({'OperationName': 'VARCHAR',
                           'RawEventData': 'STRUCT(ObjectRef STRUCT(resource VARCHAR), RequestObject STRUCT(spec STRUCT(containers STRUCT(image VARCHAR)[])))'})}
                WHERE OperationName = 'create' AND RawEventData.ObjectRef.resource = 'pods')
            WHERE image <> ''
            GROUP BY ALL""",
        "time-buckets": f"""
            SELECT strftime(date_trunc('hour', Timestamp), '%Y-%m-%dT%H:%M:%SZ') AS hour, DataSource, count(*) AS n
            FROM {src({'Timestamp': 'TIMESTAMP', 'DataSource': 'VARCHAR'})}
            GROUP BY ALL""",
        "join": f"""
            WITH t AS (
                SELECT OperationName AS op, {user} AS user
                FROM {src({'OperationName': 'VARCHAR', 'RawEventData': 'STRUCT(User STRUCT(username VARCHAR))'})}
                WHERE OperationName IN ('create', 'delete'))
            SELECT c.user, c.creates, d.deletes
            FROM (SELECT user, count(*) AS creates FROM t WHERE op = 'create' GROUP BY user) c
            JOIN (SELECT user, count(*) AS deletes FROM t WHERE op = 'delete' GROUP BY user) d
            ON c.user = d.user""",
        "allow-list": f"""
            SELECT user, count(*) AS n FROM (
                SELECT {user} AS user
                FROM {src({'RawEventData': 'STRUCT(User STRUCT(username VARCHAR))'})})
            WHERE user NOT IN (SELECT column0 FROM read_csv('{allow}', header = false, columns = {{'column0': 'VARCHAR'}}, delim = '\\t', quote = ''))
            GROUP BY ALL""",
    }


def run_duckdb(query, f, allow, threads):
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET threads TO {threads}")
    con.execute("SET enable_progress_bar = false")
    sql = duckdb_queries(f, allow)[query]
    return duckdb.__version__, lambda: con.execute(sql).fetchall()


def chdb_queries(f, allow):
    def src(structure):
        return f"file('{f}', JSONEachRow, '{structure}')"

    user = "RawEventData.User.username"
    raw_user = "RawEventData Tuple(User Tuple(username String))"
    return {
        "group-by": f"""
            SELECT DataSource, OperationName, count() AS n
            FROM {src('DataSource String, OperationName String')}
            GROUP BY DataSource, OperationName""",
        "nested-dcount": f"""
            SELECT RawEventData.ObjectRef.resource AS resource, OperationName, count() AS n,
                   uniqExact({user}) AS users
            FROM {src('DataSource String, OperationName String, RawEventData Tuple(User Tuple(username String), ObjectRef Tuple(resource String))')}
            WHERE DataSource = '{AKS}'
            GROUP BY resource, OperationName""",
        "nested-startswith": f"""
            SELECT {user} AS user, count() AS n
            FROM {src(raw_user)}
            WHERE startsWith(lower({user}), '{SA}')
            GROUP BY user""",
        "mv-expand": f"""
            SELECT image, count() AS n
            FROM {src('OperationName String, RawEventData Tuple(ObjectRef Tuple(resource String), RequestObject Tuple(spec Tuple(containers Array(Tuple(image String)))))')}
            ARRAY JOIN RawEventData.RequestObject.spec.containers.image AS image
            WHERE OperationName = 'create' AND RawEventData.ObjectRef.resource = 'pods' AND image != ''
            GROUP BY image""",
        "time-buckets": f"""
            SELECT formatDateTime(toStartOfHour(parseDateTime64BestEffort(Timestamp, 3, 'UTC')), '%Y-%m-%dT%H:%i:%SZ', 'UTC') AS hour,
                   DataSource, count() AS n
            FROM {src('Timestamp String, DataSource String')}
            GROUP BY hour, DataSource""",
        "join": f"""
            WITH t AS (
                SELECT OperationName AS op, {user} AS user
                FROM {src('OperationName String, ' + raw_user)}
                WHERE OperationName IN ('create', 'delete'))
            SELECT c.user, c.creates, d.deletes
            FROM (SELECT user, count() AS creates FROM t WHERE op = 'create' GROUP BY user) AS c
            INNER JOIN (SELECT user, count() AS deletes FROM t WHERE op = 'delete' GROUP BY user) AS d
            ON c.user = d.user""",
        "allow-list": f"""
            SELECT {user} AS user, count() AS n
            FROM {src(raw_user)}
            WHERE user NOT IN (SELECT line FROM file('{allow}', LineAsString, 'line String'))
            GROUP BY user""",
    }


def run_chdb(query, f, allow, threads):
    import chdb
    from chdb import session

    sess = session.Session()
    sql = chdb_queries(f, allow)[query] + f" SETTINGS max_threads = {threads}"

    def run():
        text = sess.query(sql, "JSONCompact").bytes()
        return [tuple(row) for row in json.loads(text)["data"]]

    return chdb.__version__, run


def polars_query(pl, query, f, allow):
    s = pl.String
    user = pl.col("RawEventData").struct.field("User").struct.field("username").fill_null("")

    def scan(schema):
        return pl.scan_ndjson(f, schema=schema)

    raw_user = {"RawEventData": pl.Struct({"User": pl.Struct({"username": s})})}
    if query == "group-by":
        return (
            scan({"DataSource": s, "OperationName": s})
            .group_by("DataSource", "OperationName")
            .agg(n=pl.len())
        )
    if query == "nested-dcount":
        raw = pl.Struct({"User": pl.Struct({"username": s}), "ObjectRef": pl.Struct({"resource": s})})
        return (
            scan({"DataSource": s, "OperationName": s, "RawEventData": raw})
            .filter(pl.col("DataSource") == AKS)
            .group_by(
                pl.col("RawEventData").struct.field("ObjectRef").struct.field("resource").fill_null("").alias("resource"),
                "OperationName",
            )
            .agg(n=pl.len(), users=user.n_unique())
        )
    if query == "nested-startswith":
        return (
            scan(raw_user)
            .select(user=user)
            .filter(pl.col("user").str.to_lowercase().str.starts_with(SA))
            .group_by("user")
            .agg(n=pl.len())
        )
    if query == "mv-expand":
        raw = pl.Struct({
            "ObjectRef": pl.Struct({"resource": s}),
            "RequestObject": pl.Struct({"spec": pl.Struct({"containers": pl.List(pl.Struct({"image": s}))})}),
        })
        return (
            scan({"OperationName": s, "RawEventData": raw})
            .filter(
                (pl.col("OperationName") == "create")
                & (pl.col("RawEventData").struct.field("ObjectRef").struct.field("resource") == "pods")
            )
            .select(
                image=pl.col("RawEventData").struct.field("RequestObject").struct.field("spec").struct.field("containers")
            )
            .explode("image")
            .select(image=pl.col("image").struct.field("image").fill_null(""))
            .filter(pl.col("image") != "")
            .group_by("image")
            .agg(n=pl.len())
        )
    if query == "time-buckets":
        return (
            scan({"Timestamp": s, "DataSource": s})
            .select(
                hour=pl.col("Timestamp")
                .str.to_datetime("%Y-%m-%dT%H:%M:%S%.fZ", time_zone="UTC")
                .dt.truncate("1h")
                .dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
                DataSource=pl.col("DataSource"),
            )
            .group_by("hour", "DataSource")
            .agg(n=pl.len())
        )
    if query == "join":
        t = (
            scan({"OperationName": s, **raw_user})
            .filter(pl.col("OperationName").is_in(["create", "delete"]))
            .select(op=pl.col("OperationName"), user=user)
            .cache()
        )
        creates = t.filter(pl.col("op") == "create").group_by("user").agg(creates=pl.len())
        deletes = t.filter(pl.col("op") == "delete").group_by("user").agg(deletes=pl.len())
        return creates.join(deletes, on="user", how="inner").select("user", "creates", "deletes")
    if query == "allow-list":
        with open(allow, encoding="utf-8") as lines:
            allowed = [line.rstrip("\n") for line in lines]
        return (
            scan(raw_user)
            .select(user=user)
            .filter(~pl.col("user").is_in(allowed))
            .group_by("user")
            .agg(n=pl.len())
        )
    raise KeyError(query)


def run_polars(query, f, allow, threads):
    import os

    os.environ["POLARS_MAX_THREADS"] = str(threads)
    import polars as pl

    plan = polars_query(pl, query, f, allow)
    return pl.__version__, lambda: plan.collect().rows()


PEERS = {"duckdb": run_duckdb, "chdb": run_chdb, "polars": run_polars}


def canonical(rows):
    """One line per row: values as text, tab-separated, null as ""; sorted."""

    def text(value):
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    return sorted("\t".join(text(v) for v in row) for row in rows)


def main():
    peer, query, f, allow, repeat, threads, out = sys.argv[1:8]
    try:
        version, run = PEERS[peer](query, f, allow, int(threads))
    except ImportError as error:
        print(f"not installed ({error})", file=sys.stderr)
        sys.exit(3)
    best, rows = float("inf"), None
    for _ in range(max(1, int(repeat))):
        start = time.perf_counter()
        result = run()
        seconds = time.perf_counter() - start
        if seconds < best:
            best, rows = seconds, result
    with open(out, "w", encoding="utf-8") as sink:
        for line in canonical(rows):
            sink.write(line + "\n")
    print(json.dumps({"seconds": best, "version": version}))


if __name__ == "__main__":
    main()
