/*
 * fuzz_idmap.c — the id map on arbitrary keys (empty, long, repeated,
 * 8-byte integer encodings, bytes of any value), interned one by one and
 * in batches: the same key always gets the same index, different keys
 * different ones, every key is found again, and sorting keeps the map
 * consistent with the remap it returns.
 */
#include "fuzz_common.h"
#include "idmap.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_in		in = {data, size};
	mf_idmap   *volatile m = NULL;
	int			nkeys = 0;
	const void *keys[256];
	uint32_t	lens[256];
	int32_t		idx[256];

	/* split the input into keys: a length byte then that many bytes */
	while (in.n > 0 && nkeys < 256)
	{
		uint32_t	len = (uint32_t) fz_u(&in, 1);

		if (len > in.n)
			len = (uint32_t) in.n;
		keys[nkeys] = in.p;
		lens[nkeys] = len;
		in.p += len;
		in.n -= len;
		nkeys++;
	}
	fz_init(0);
	if (setjmp(fz_jmp) == 0)
	{
		int			half = nkeys / 2;

		m = mf_idmap_create(env);
		for (int i = 0; i < half; i++)
			idx[i] = mf_idmap_intern(env, m, keys[i], lens[i]);
		if (nkeys > half)
			mf_idmap_intern_batch(env, m, &keys[half], &lens[half], nkeys - half, &idx[half]);
		for (int i = 0; i < nkeys; i++)
		{
			uint32_t	l;
			const char *k = mf_idmap_key(m, idx[i], &l);

			CHECK(idx[i] >= 0 && idx[i] < mf_idmap_count(m));
			CHECK(l == lens[i] && memcmp(k, keys[i], l) == 0);
			CHECK(mf_idmap_find(m, keys[i], lens[i]) == idx[i]);
			for (int j = 0; j < i; j++)
				CHECK((idx[i] == idx[j]) == (lens[i] == lens[j] && memcmp(keys[i], keys[j], lens[i]) == 0));
		}
		{
			int32_t		n = mf_idmap_count(m);
			int32_t    *remap = malloc(sizeof(int32_t) * (n + 1));

			mf_idmap_sort(env, m, remap);
			for (int i = 0; i < nkeys; i++)
			{
				uint32_t	l;
				const char *k = mf_idmap_key(m, remap[idx[i]], &l);

				CHECK(l == lens[i] && memcmp(k, keys[i], l) == 0);
			}
			free(remap);
		}
	}
	fz_free_all();
	return 0;
}
