/*
 * covisit_set.h — the co-visit set, the bytea that covisit_agg() returns and
 * covisit_pairs()/covisit_days() and covisit_merge() read: its layout, its
 * validation and its writer, in one place.
 *
 * Layout (version 1, host byte order: a set is for the cluster that made it
 * and for servers of the same architecture, as postgres_fdw shards are):
 *   set_header, then npersons × (uint32 length, key bytes), then nrecords ×
 *   set_record sorted by (a, b, day), a < b indexing the person list.  Keys
 *   are as idmap.h encodes them (text bytes, or 8 bytes for integer ids), in
 *   key order, so that a < b also means key(a) < key(b).
 */
#ifndef MF_COVISIT_SET_H
#define MF_COVISIT_SET_H

#include "mf_pg.h"
#include "idmap.h"

#define MF_SET_MAGIC "MFCV"
#define MF_SET_VERSION 1

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

/* A validated set: pointers into the caller's (detoasted) bytea. */
typedef struct mf_set
{
	set_header	h;
	const char **key;			/* npersons key pointers */
	uint32	   *klen;			/* and lengths */
	const char *records;		/* nrecords set_record, possibly unaligned */
} mf_set;

/*
 * Parse and validate a set (raises 22P03 on anything malformed: a set's
 * bytes are never trusted).  key/klen are palloc'd in CurrentMemoryContext.
 */
extern void mf_set_parse(bytea *in, mf_set *s);

/* Record i of a parsed set, checked (bounds, order after prev). */
extern void mf_set_record(const mf_set *s, int64 i, set_record *r, const set_record *prev);

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
