/* The kernel a tree's modules imply (model_infer_kernel), kept in the
 * cache beside the records: inferring it hashes every versioned need of
 * every module (about 140k on a Debian amd64 tree, 50 ms of one CPU),
 * the largest part of loading a cached model for check, why and diff.
 * It depends only on the tree's records, in order: the key is a hash of
 * their digests (modrec_digest), with this format's version. */
#ifndef MA_MODEL_KERNEL_CACHE_H
#define MA_MODEL_KERNEL_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "util/attr.h"

struct kernel_inferred;
struct model;
struct strbuf;

/* The key of the tree m holds (its records, in tree order). */
uint64_t kernel_cache_key(const struct model *m);

/* k as the side file holds it. 0 or -ENOMEM. */
int kernel_inferred_encode(const struct kernel_inferred *k, struct strbuf *out) MA_MUST_CHECK;
/* Bytes kernel_inferred_encode wrote back into *k (released first): 0,
 * -EINVAL when they are not such bytes, -ENOMEM. */
int kernel_inferred_decode(const void *p, size_t len, struct kernel_inferred *k) MA_MUST_CHECK;

/* model_infer_kernel through the cache whose base m's options name
 * (none: inferred): the side file when its key matches, else inferred
 * and saved (a failure to save is only logged, at debug). */
int model_infer_kernel_cached(struct model *m) MA_MUST_CHECK;

#endif
