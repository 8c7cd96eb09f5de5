/* Every byte libdss holds is allocated here, so that a per-handle allocator can be plugged in
 * and a handle can report the bytes it holds. dssi_mem_array checks count * size for overflow. */
#ifndef DSS_MEM_H
#define DSS_MEM_H

#include <stddef.h>

/* Bytes held through an allocator, now and at most. */
typedef struct mem_meter { size_t held, peak; } mem_meter;

typedef struct mem_allocator {
    void *(*alloc)(void *user, size_t size);
    void  (*free)(void *user, void *ptr);
    void   *user;
    mem_meter *meter;   /* NULL: not metered */
} mem_allocator;

/* The default allocator: malloc and free. */
extern const mem_allocator dssi_mem_default;

/* The allocator a handle keeps: a host's dss_allocator (NULL: the default). 0, or -1 when the
   host's allocator lacks a function. */
struct dss_allocator;
int dssi_mem_from_host(mem_allocator *out, const struct dss_allocator *host);

void *dssi_mem_alloc(const mem_allocator *a, size_t size);
void *dssi_mem_array(const mem_allocator *a, size_t count, size_t size);   /* NULL on overflow too */
void *dssi_mem_zeros(const mem_allocator *a, size_t count, size_t size);   /* zero-filled array */
void  dssi_mem_free(const mem_allocator *a, void *ptr);
/* Scratch arrays that only grow: make *buf hold at least count elements of size bytes,
   replacing it (contents lost) when *cap is smaller. DSS_OK or DSS_ENOMEM (buf unchanged).
   MEM_GROW names the array and its capacity field (field##_cap) of a struct. */
int   dssi_mem_grow(const mem_allocator *a, void **buf, size_t *cap, size_t count, size_t size);
#define MEM_GROW(a, obj, field, count) \
    dssi_mem_grow((a), (void **)&(obj)->field, &(obj)->field##_cap, (count), sizeof *(obj)->field)
/* count * size without overflow: 0 and *out set, or -1. */
int   dssi_mem_mul(size_t count, size_t size, size_t *out);
/* Byte bounds (dss_search_estimate_bytes) that saturate at SIZE_MAX, "more than size_t
   counts", instead of wrapping around to a small number. */
size_t dssi_sat_add(size_t a, size_t b);
size_t dssi_sat_mul(size_t a, size_t b);

#endif
