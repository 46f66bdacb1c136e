/* render_nft: a plan as nft text, whole or in the parts an update needs.
 * Ownership: the caller owns every buffer passed in; nothing is kept. */
#ifndef SVCNFT_RENDER_NFT_H
#define SVCNFT_RENDER_NFT_H

#include "lower.h"

/* Append the nft text declaring the dynamic chain or map NAME of plan P,
 * or one of the backends maps (maps without size or elements) to B; false
 * if P has no such object.  nft 1.0.6 parses elements of a `typeof` map
 * only after a declaration in the same script. */
bool render_nft_object(struct svcnft_buf *b, const struct plan *p,
		       const char *name);

/* The script of an update's template (kernel/nlload.c): an empty table
 * holding the dynamic objects OBJS, what their rules refer to (sets and
 * maps declared as the skeleton declares them, chains empty) and the
 * interval sets WHOLE with their elements; false if P lacks one of them.
 * libnftables compiles it in a few milliseconds at any cluster size. */
bool render_nft_template(struct svcnft_buf *b, const struct plan *p,
			 const char *const *objs, size_t n_objs,
			 const char *const *whole, size_t n_whole);

/* The whole script of plan P (what `compile` prints).  A SKELETON leaves
 * out the elements of the sets and maps for which el_direct_set() is true:
 * kernel/nlload.c encodes those itself. */
void render_nft_plan(struct svcnft_buf *out, const struct plan *p,
		     bool skeleton);

/* What svcnft_model_stats counts, from a plan already built. */
void plan_stats(const struct plan *p, struct svcnft_stats *st);

#endif
