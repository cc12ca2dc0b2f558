/*
 * drain_worker.c — the claim queue's background drain (docs/design.md,
 * "Continuous detection").  medfraud.start_drain_worker registers a dynamic
 * background worker (no shared_preload_libraries) connected to the caller's
 * database as the caller's role.  Its work is one of three: 'all' calls
 * medfraud.drain_claim_queue without the graphs' fold, then
 * medfraud.fold_live_graphs, one transaction each; 'checks' only the first,
 * 'graphs' only the second (two workers, one of each, so that a claim's
 * alerts never wait for a fold).  It sleeps on its latch for naptime only
 * when a round found nothing to do.  An error
 * in either is logged and the loop goes on (a failed drain's claims stay
 * queued, a failed fold's changes stay marked: the transaction is rolled
 * back); SIGTERM ends it (PostgreSQL's own handler: a drain in progress is
 * rolled back).  It is never restarted by the postmaster: a stopped worker
 * stays stopped.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "catalog/pg_authid.h"
#include "utils/timestamp.h"

#include "mf_pg.h"

PG_FUNCTION_INFO_V1(medfraud_start_drain_worker);
PGDLLEXPORT void medfraud_drain_worker_main(Datum arg);

/* What the starting backend hands the worker (in bgw_extra). */
typedef struct drain_args
{
	Oid			database;
	Oid			role;
	int64		naptime_ms;
	int32		max_claims;
	int32		work;			/* DRAIN_ALL, DRAIN_CHECKS or DRAIN_GRAPHS */
} drain_args;

#define DRAIN_ALL		0
#define DRAIN_CHECKS	1
#define DRAIN_GRAPHS	2
static const char *const drain_work_names[] = {"all", "checks", "graphs"};

StaticAssertDecl(sizeof(drain_args) <= BGW_EXTRALEN, "drain_args must fit in bgw_extra");

#define DRAIN_TYPE "medfraud drain"

Datum
medfraud_start_drain_worker(PG_FUNCTION_ARGS)
{
	Interval   *nap;
	int64		ms;
	int32		max_claims;
	drain_args	a;
	BackgroundWorker w;
	BackgroundWorkerHandle *handle;
	BgwHandleStatus status;
	pid_t		pid;
	char	   *dbname;
	char	   *work;
	int32		w_kind = -1;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						errmsg("naptime, max_claims and work must not be NULL")));
	work = text_to_cstring(PG_GETARG_TEXT_PP(2));
	for (int i = 0; i < (int) lengthof(drain_work_names); i++)
		if (strcmp(work, drain_work_names[i]) == 0)
			w_kind = i;
	if (w_kind < 0)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("unknown drain work \"%s\"", work),
						errhint("work is 'all' (checks, then the live graphs' fold), 'checks' (the claim queue only) "
								"or 'graphs' (the live graphs' fold only).")));
	nap = PG_GETARG_INTERVAL_P(0);
	max_claims = PG_GETARG_INT32(1);
	/* months and days as 30 and 1 days: an hour is the limit anyway */
	if (nap->month != 0 || nap->day < 0 || nap->day > 1 || nap->time < 0)
		ms = -1;
	else
		ms = (int64) nap->day * 86400000 + nap->time / 1000;
	if (ms < 10 || ms > 3600 * 1000)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("naptime must lie between 10 milliseconds and 1 hour"),
						errdetail("Got %s.", DatumGetCString(DirectFunctionCall1(interval_out,
																				  IntervalPGetDatum(nap))))));
	if (max_claims < 1)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("max_claims must be 1 or more"),
						errdetail("Got %d.", max_claims)));

	/* the worker logs in as the current role: PostgreSQL 15 refuses NOLOGIN roles */
	{
		HeapTuple	tup = SearchSysCache1(AUTHOID, ObjectIdGetDatum(GetUserId()));
		bool		canlogin;

		if (!HeapTupleIsValid(tup))
			elog(ERROR, "cache lookup failed for role %u", GetUserId());
		canlogin = ((Form_pg_authid) GETSTRUCT(tup))->rolcanlogin;
		ReleaseSysCache(tup);
		if (!canlogin)
			ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
							errmsg("a drain worker runs as the role that starts it, and role \"%s\" cannot log in",
								   GetUserNameFromId(GetUserId(), false)),
							errhint("Start it as a login role that is a member of medfraud_admin (RESET ROLE first).")));
	}

	memset(&a, 0, sizeof a);
	a.database = MyDatabaseId;
	a.role = GetUserId();
	a.naptime_ms = ms;
	a.max_claims = max_claims;
	a.work = w_kind;
	dbname = get_database_name(MyDatabaseId);

	memset(&w, 0, sizeof w);
	w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(w.bgw_library_name, BGW_MAXLEN, "medfraud");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "medfraud_drain_worker_main");
	snprintf(w.bgw_name, BGW_MAXLEN, "medfraud drain (%s) of database %s", drain_work_names[w_kind],
			 dbname ? dbname : "?");
	snprintf(w.bgw_type, BGW_MAXLEN, DRAIN_TYPE);
	w.bgw_main_arg = (Datum) 0;
	w.bgw_notify_pid = MyProcPid;
	memcpy(w.bgw_extra, &a, sizeof a);

	if (!RegisterDynamicBackgroundWorker(&w, &handle))
		ereport(ERROR, (errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
						errmsg("could not start a medfraud drain worker: no background worker slot is free"),
						errhint("Each worker takes one of max_worker_processes (%d, shared with parallel query and "
								"other extensions); stop a worker (medfraud.stop_drain_worker) or raise the "
								"setting and restart the server.  pg_cron can drain instead: "
								"CALL medfraud.drain_claims_for(55) every minute.",
								max_worker_processes)));
	status = WaitForBackgroundWorkerStartup(handle, &pid);
	if (status == BGWH_POSTMASTER_DIED)
		ereport(ERROR, (errcode(ERRCODE_ADMIN_SHUTDOWN),
						errmsg("could not start a medfraud drain worker: the postmaster died")));
	if (status != BGWH_STARTED)
		ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						errmsg("could not start a medfraud drain worker"),
						errhint("See the server log.")));
	PG_RETURN_INT32((int32) pid);
}

/*
 * Run one statement with the given arguments in its own transaction;
 * returns the first column of the first row (int8 or int4) as int64 (0 when
 * there is none).  Errors propagate to the caller's PG_TRY.
 */
static int64
drain_once(const char *sql, int nargs, Oid *types, Datum *values)
{
	int64		result = 0;
	int			rc;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, sql);
	rc = SPI_execute_with_args(sql, nargs, types, values, NULL, false, 0);
	if (rc < 0)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	if (SPI_processed > 0 && SPI_tuptable != NULL && SPI_tuptable->tupdesc->natts > 0)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull && SPI_tuptable->tupdesc->attrs[0].atttypid == INT8OID)
			result = DatumGetInt64(d);
		else if (!isnull && SPI_tuptable->tupdesc->attrs[0].atttypid == INT4OID)
			result = DatumGetInt32(d);
	}
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_stat(false);
	pgstat_report_activity(STATE_IDLE, NULL);
	return result;
}

void
medfraud_drain_worker_main(Datum arg)
{
	drain_args	a;
	MemoryContext loop_ctx;
	Oid			types[3];
	Datum		values[3];
	Interval	nap;

	memcpy(&a, MyBgworkerEntry->bgw_extra, sizeof a);
	/* PostgreSQL's handler: SIGTERM ends the process at the next interrupt check */
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(a.database, a.role, 0);
	pgstat_report_appname(DRAIN_TYPE);

	/* say who it is; a failure here (no medfraud in the database) ends it */
	memset(&nap, 0, sizeof nap);
	nap.time = a.naptime_ms * 1000;
	types[0] = INTERVALOID;
	values[0] = IntervalPGetDatum(&nap);
	types[1] = INT4OID;
	values[1] = Int32GetDatum(a.max_claims);
	types[2] = TEXTOID;
	values[2] = CStringGetTextDatum(drain_work_names[a.work]);
	drain_once("WITH gone AS (DELETE FROM medfraud.drain_workers w WHERE w.database = pg_catalog.current_database() "
			   "AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_stat_activity s WHERE s.pid = w.pid)) "
			   "INSERT INTO medfraud.drain_workers(pid, database, started_by, naptime, max_claims, work) "
			   "VALUES (pg_catalog.pg_backend_pid(), pg_catalog.current_database(), CURRENT_USER, $1, $2, $3) "
			   "ON CONFLICT (pid) DO UPDATE SET started_by = EXCLUDED.started_by, started_at = EXCLUDED.started_at, "
			   "naptime = EXCLUDED.naptime, max_claims = EXCLUDED.max_claims, work = EXCLUDED.work",
			   3, types, values);
	elog(LOG, "medfraud drain worker started (work %s, naptime %lld ms, max_claims %d)",
		 drain_work_names[a.work], (long long) a.naptime_ms, a.max_claims);

	loop_ctx = AllocSetContextCreate(TopMemoryContext, "medfraud drain loop", ALLOCSET_DEFAULT_SIZES);
	for (;;)
	{
		/* (set inside PG_TRY, read after a longjmp: volatile) */
		volatile int64 n = 0;
		volatile bool failed = false;
		volatile bool folding = false;

		CHECK_FOR_INTERRUPTS();
		MemoryContextSwitchTo(loop_ctx);
		PG_TRY();
		{
			/*
			 * the checks commit first, then the live graphs' fold in a
			 * transaction of its own: a claim's alerts are visible without
			 * waiting for the fold (about a second at the day's peak); with
			 * the work split over two workers they do not wait for it at all
			 */
			if (a.work != DRAIN_GRAPHS)
				n = drain_once("SELECT medfraud.drain_claim_queue($1, false)", 1, &types[1], &values[1]);
			folding = true;
			if (a.work == DRAIN_GRAPHS)
				n = drain_once("SELECT medfraud.fold_live_graphs()", 0, NULL, NULL);
			else if (a.work == DRAIN_ALL)
				(void) drain_once("SELECT medfraud.fold_live_graphs()", 0, NULL, NULL);
		}
		PG_CATCH();
		{
			ErrorData  *ed;

			MemoryContextSwitchTo(loop_ctx);
			ed = CopyErrorData();
			FlushErrorState();
			AbortCurrentTransaction();
			pgstat_report_activity(STATE_IDLE, NULL);
			/* (once the checks committed, only the fold can have failed) */
			ereport(LOG, (folding
						  ? errmsg("medfraud live graph fold failed, its changes stay marked: %s", ed->message)
						  : errmsg("medfraud drain failed, its claims stay queued: %s", ed->message),
						  ed->detail ? errdetail_internal("%s", ed->detail) : 0));
			FreeErrorData(ed);
			failed = true;
		}
		PG_END_TRY();
		MemoryContextReset(loop_ctx);
		if (n == 0 || failed)
		{
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 (long) a.naptime_ms, PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
		}
	}
}
