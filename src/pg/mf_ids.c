/*
 * mf_ids.c — node ids and times between PostgreSQL Datums and the core.
 *
 * Ids may be text-like (text, varchar, char(n)) or integers (smallint, int,
 * bigint); both become byte keys whose memcmp order is the type's natural
 * order for integers and byte order ("C" collation) for text, which is the
 * order in which output rows guarantee src < dst.
 */
#include "mf_pg.h"

#include "catalog/pg_type.h"
#include "common/int.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/lsyscache.h"

mf_keykind
mf_keykind_for_type(Oid typid, const char *what, const char *col)
{
	switch (typid)
	{
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
			return MF_KEY_TEXT;
		case INT2OID:
		case INT4OID:
		case INT8OID:
			return MF_KEY_INT;
		default:
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("%s column \"%s\" has type %s", what, col, format_type_be(typid)),
					 errdetail("Ids must be text, varchar, char(n), smallint, integer or bigint."),
					 errhint("Cast the column in a view, e.g. %s::text.", quote_identifier(col))));
	}
	return MF_KEY_TEXT;			/* not reached */
}

const char *
mf_datum_key(Datum d, Oid typid, mf_keykind kind, unsigned char *buf, uint32_t *len)
{
	if (kind == MF_KEY_INT)
	{
		int64		v;

		if (typid == INT2OID)
			v = DatumGetInt16(d);
		else if (typid == INT4OID)
			v = DatumGetInt32(d);
		else
			v = DatumGetInt64(d);
		mf_idmap_encode_int(v, buf);
		*len = 8;
		return (const char *) buf;
	}
	else
	{
		text	   *t = DatumGetTextPP(d);
		const char *p = VARDATA_ANY(t);
		uint32_t	l = VARSIZE_ANY_EXHDR(t);

		if (typid == BPCHAROID)
			while (l > 0 && p[l - 1] == ' ')
				l--;
		*len = l;
		return p;
	}
}

text *
mf_key_text(const mf_idmap *m, int32_t idx, mf_keykind kind)
{
	uint32_t	len;
	const char *k = mf_idmap_key(m, idx, &len);

	if (kind == MF_KEY_INT)
	{
		char		buf[32];

		snprintf(buf, sizeof(buf), INT64_FORMAT,
				 (int64) mf_idmap_decode_int((const unsigned char *) k));
		return cstring_to_text(buf);
	}
	return cstring_to_text_with_len(k, len);
}

int32
mf_local_day(mf_daycache *c, TimestampTz t)
{
	DateADT		d;

	if (c->valid && t >= c->start && t < c->next)
		return c->day;
	d = DatumGetDateADT(DirectFunctionCall1(timestamptz_date, TimestampTzGetDatum(t)));
	c->day = d;
	c->start = DatumGetTimestampTz(DirectFunctionCall1(date_timestamptz, DateADTGetDatum(d)));
	c->next = DatumGetTimestampTz(DirectFunctionCall1(date_timestamptz, DateADTGetDatum(d + 1)));
	c->valid = true;
	return d;
}

int64
mf_interval_usecs(Interval *iv, const char *argname)
{
	int64		us;

	if (iv->month != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not contain months or years", argname),
				 errhint("Use days, hours or minutes, e.g. '30 minutes'.")));
	if (pg_mul_s64_overflow((int64) iv->day, USECS_PER_DAY, &us) ||
		pg_add_s64_overflow(us, iv->time, &us))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s is out of range", argname)));
	if (us <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be positive", argname),
				 errdetail("Got %s.", DatumGetCString(DirectFunctionCall1(interval_out,
																		  IntervalPGetDatum(iv)))),
				 errhint("Use an interval such as '30 minutes'.")));
	return us;
}

char *
mf_relation_sql_name(Oid relid)
{
	char	   *rel = get_rel_name(relid);

	if (rel == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)), rel);
}
