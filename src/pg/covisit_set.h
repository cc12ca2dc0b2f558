/*
 * covisit_set.h — the co-visit set, the bytea that covisit_agg() returns and
 * covisit_pairs()/covisit_days() and covisit_merge() read: its layout, its
 * validation and its writer, in one place.
 *
 * Layout (host byte order: a set is for the cluster that made it and for
 * servers of the same architecture, as postgres_fdw shards are):
 *   set_header, then npersons × (uint32 length, key bytes), then nrecords
 *   records sorted by (a, b, day), a < b indexing the person list.  Keys are
 *   as idmap.h encodes them (text bytes, or 8 bytes for integer ids), in key
 *   order, so that a < b also means key(a) < key(b).
 * Records, version 2 (written): each as differences from the one before
 * (the first from zeros), in LEB128 varints, u unsigned, z zigzag-signed:
 *   u a - a', then u b - b' when a = a' (a later record of the same
 *   person) or u b - a - 1 otherwise, z day - day', u covisits - 1, the
 *   weight's 8 bytes, z first - day × 86400 s (in microseconds: the time
 *   within the day), u last - first.
 *   About 20 bytes a record instead of 40: the sets are what shards send
 *   the coordinator (issue 16), as bytea's hex text.
 * Version 1 (still read): set_record as laid out below, 40 bytes each.
 */
#ifndef MF_COVISIT_SET_H
#define MF_COVISIT_SET_H

#include "mf_pg.h"
#include "idmap.h"

#define MF_SET_MAGIC "MFCV"
#define MF_SET_VERSION 2			/* written; 1 is still read */

typedef struct set_header
{
	char		magic[4];
	uint8		version;
	uint8		kind;
	uint16		zero;
	int32		npersons;
	int32		zero2;
	int64		nrecords;
} set_header;

typedef struct set_record
{
	int32		a;
	int32		b;
	int32		day;
	int32		covisits;
	double		weight;
	int64		first;
	int64		last;
} set_record;

/*
 * A validated set: pointers into the caller's (detoasted) bytea, and a
 * cursor over its records.
 */
typedef struct mf_set
{
	set_header	h;
	const char **key;			/* npersons key pointers */
	uint32	   *klen;			/* and lengths */
	const char *end;			/* the end of the records' bytes */
	const char *pos;			/* the cursor: the next record's bytes (possibly unaligned) */
	int64		next;			/* its index */
	set_record	prev;			/* the record before it (zeros before the first) */
} mf_set;

/*
 * Parse and validate a set's header and keys (raises 22P03 on anything
 * malformed: a set's bytes are never trusted), the cursor on its first
 * record.  key/klen are palloc'd in CurrentMemoryContext.
 */
extern void mf_set_parse(bytea *in, mf_set *s);

/*
 * The cursor's record into r, checked (bounds, order after the one
 * before), and the cursor on the next; s->next < s->h.nrecords is the
 * caller's to check.  After the last record, the bytes must end.
 */
extern void mf_set_next(mf_set *s, set_record *r);

/* Sort records by (a, b, day). */
extern void mf_set_sort(mf_env *env, set_record *r, int64 n);

/*
 * Write a set of n records (sorted by (a, b, day), a < b) over the persons
 * of map m (indices in key order), keeping only the persons the records
 * use.  scratch: np int32.  Palloc'd in CurrentMemoryContext; raises
 * 54000 when over 1 GB (what names the caller in the message).
 */
extern bytea *mf_set_write(mf_env *env, const mf_idmap *m, uint8 kind,
						   const set_record *r, int64 n, int32 *scratch,
						   const char *what);

#endif
