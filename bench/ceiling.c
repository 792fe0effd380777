// The storage ceiling of a create: SQLite alone (no HTTP, no JSON, no Swift) running the
// statements the server's writer runs for one POST posts:create (`create`) or for one
// posts:create?triggerWorkflows=logPost whose workflow runs in the same write (`trigger`; the
// sequences read off the writer with a breakpoint on sqlite3_step), on a database the server
// itself created, in transactions of BATCH requests the way the writer's group commit makes them.
// Prints requests/s; built and run by ceiling.sh.
//
//   ceiling DATABASE REQUESTS BATCH create|trigger
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static sqlite3 *db;

static sqlite3_stmt *prepare(const char *sql) {
    sqlite3_stmt *statement;
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &statement, 0) != SQLITE_OK) {
        fprintf(stderr, "ceiling: %s: %s\n", sql, sqlite3_errmsg(db));
        exit(1);
    }
    return statement;
}

static void run(sqlite3_stmt *statement) {
    int rc;
    while ((rc = sqlite3_step(statement)) == SQLITE_ROW) {}
    if (rc != SQLITE_DONE) {
        fprintf(stderr, "ceiling: %s: %s\n", sqlite3_sql(statement), sqlite3_errmsg(db));
        exit(1);
    }
    sqlite3_reset(statement);
}

static void text(sqlite3_stmt *statement, int index, const char *value) {
    sqlite3_bind_text(statement, index, value, -1, SQLITE_STATIC);
}

static double seconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec + now.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc != 5 || (strcmp(argv[4], "create") && strcmp(argv[4], "trigger"))) {
        fprintf(stderr, "usage: ceiling DATABASE REQUESTS BATCH create|trigger\n");
        return 2;
    }
    int requests = atoi(argv[2]), batch = atoi(argv[3]), triggered = strcmp(argv[4], "trigger") == 0;
    if (sqlite3_open(argv[1], &db) != SQLITE_OK) { fprintf(stderr, "ceiling: cannot open %s\n", argv[1]); return 1; }
    // The writer's connection: WAL, synchronous=FULL (a 2xx is on disk), foreign keys enforced.
    sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON", 0, 0, 0);
    sqlite3_stmt *begin = prepare("BEGIN IMMEDIATE"), *commit = prepare("COMMIT");
    sqlite3_stmt *request = prepare("SAVEPOINT tb_sp0"), *requestDone = prepare("RELEASE tb_sp0");
    sqlite3_stmt *workflow = prepare("SAVEPOINT tb_sp1"), *workflowDone = prepare("RELEASE tb_sp1");
    sqlite3_stmt *node = prepare("SAVEPOINT tb_sp2"), *nodeDone = prepare("RELEASE tb_sp2");
    sqlite3_stmt *category = prepare("SELECT 1 FROM \"categories\" WHERE \"id\" = ?");
    sqlite3_stmt *post = prepare("INSERT INTO \"posts\" (\"createdAt\", \"updatedAt\", \"createdById\", \"updatedById\", \"title\", "
                                 "\"content\", \"categoryId\") VALUES (?, ?, ?, ?, ?, ?, ?)");
    // The workflow's run ends in the write, so its execution is written once, ended, after its node ran.
    sqlite3_stmt *execution = prepare("INSERT INTO \"executions\" (\"createdAt\", \"updatedAt\", \"workflowId\", \"key\", \"status\", "
                                      "\"context\", \"businessKey\", \"reason\", \"startedAt\", \"finishedAt\", \"leaseOwner\", "
                                      "\"leaseExpiresAt\") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    sqlite3_stmt *log = prepare("INSERT INTO \"logs\" (\"createdAt\", \"updatedAt\", \"createdById\", \"updatedById\", \"message\", "
                                "\"postId\") VALUES (?, ?, ?, ?, ?, ?)");
    sqlite3_stmt *job = prepare("INSERT INTO \"jobs\" (\"createdAt\", \"updatedAt\", \"executionId\", \"nodeId\", \"nodeKey\", \"status\", "
                                "\"result\") VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (\"executionId\", \"nodeId\") DO UPDATE SET "
                                "\"status\" = excluded.\"status\", \"result\" = excluded.\"result\", \"updatedAt\" = excluded.\"updatedAt\"");
    const char *stamp = "2026-12-07T15:26:12.885Z";
    // The stored context and job result of the benchmark's workflow are 431 and 171 bytes.
    char context[432], result[172];
    memset(context, 'c', 431); context[431] = 0;
    memset(result, 'r', 171); result[171] = 0;

    double start = seconds();
    for (int done = 0; done < requests; done += batch) {
        run(begin);
        for (int i = 0; i < batch; i++) {
            run(request);
            sqlite3_bind_int64(category, 1, 1); run(category);
            text(post, 1, stamp); text(post, 2, stamp); sqlite3_bind_int64(post, 3, 2); sqlite3_bind_int64(post, 4, 2);
            text(post, 5, "Benchmark post"); text(post, 6, "A post written by wrk to measure triggered creates.");
            sqlite3_bind_int64(post, 7, 1);
            run(post);
            sqlite3_int64 postID = sqlite3_last_insert_rowid(db);
            if (!triggered) { run(requestDone); continue; }
            run(workflow);
            run(node);
            text(log, 1, stamp); text(log, 2, stamp); sqlite3_bind_null(log, 3); sqlite3_bind_null(log, 4);
            text(log, 5, "new post Benchmark post"); sqlite3_bind_int64(log, 6, postID);
            run(log);
            run(nodeDone);
            text(execution, 1, stamp); text(execution, 2, stamp); sqlite3_bind_int64(execution, 3, 1);
            text(execution, 4, "logPost"); sqlite3_bind_int64(execution, 5, 1); text(execution, 6, context);
            sqlite3_bind_null(execution, 7); sqlite3_bind_null(execution, 8); text(execution, 9, stamp); text(execution, 10, stamp);
            text(execution, 11, "ceiling"); sqlite3_bind_int64(execution, 12, 1796656725000LL);
            run(execution);
            sqlite3_int64 executionID = sqlite3_last_insert_rowid(db);
            text(job, 1, stamp); text(job, 2, stamp); sqlite3_bind_int64(job, 3, executionID); text(job, 4, "log");
            text(job, 5, "log"); sqlite3_bind_int64(job, 6, 1); text(job, 7, result);
            run(job);
            run(workflowDone);
            run(requestDone);
        }
        run(commit);
    }
    double elapsed = seconds() - start;
    printf("%.0f\n", requests / elapsed);
    sqlite3_close(db);
    return 0;
}
