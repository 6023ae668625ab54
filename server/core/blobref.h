/* blobref.h - the blobs a record references: every {$type:"blob", ref:{$link}} map, and
 * legacy {cid, mimeType} maps, anywhere inside it. Pure; one thread per arena. */
#ifndef PDS_CORE_BLOBREF_H
#define PDS_CORE_BLOBREF_H

#include "core/dm.h"

#define BLOBREF_MAX 1000 /* references in one record; far beyond any lexicon's arrays */

/* Collects the distinct blob CIDs of v into an arena array. ERR_TOO_LARGE past
 * BLOBREF_MAX; ERR_INVALID for a legacy reference whose cid does not parse. */
enum err blobref_collect(const struct dm_value *v, struct arena *a, struct cid **out,
                         size_t *n) MUST_CHECK;

#endif
