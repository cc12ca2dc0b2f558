/*
 * medfraud.c — module entry point.  No shared_preload_libraries needed:
 * everything is set up when the library is first loaded in a backend.
 */
#include "mf_pg.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	mf_guc_init();
}
