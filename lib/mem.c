/* The one allocation path of the library. Each block carries a small header with its size so
 * that frees can be metered without the host allocator's help. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <dss/dss.h>

#include "mem.h"

/* A header as large as the strictest fundamental alignment keeps the payload aligned. */
#define HEADER sizeof(max_align_t)

static void *default_alloc(void *user, size_t size) { (void)user; return malloc(size); }
static void default_free(void *user, void *ptr) { (void)user; free(ptr); }

const mem_allocator dssi_mem_default = { default_alloc, default_free, NULL, NULL };

int dssi_mem_from_host(mem_allocator *out, const dss_allocator *host)
{
    if (host == NULL) {
        *out = dssi_mem_default;
        return 0;
    }
    if (host->alloc == NULL || host->free == NULL)
        return -1;
    *out = (mem_allocator){ host->alloc, host->free, host->user, NULL };
    return 0;
}

int dssi_mem_mul(size_t count, size_t size, size_t *out)
{
    if (size != 0 && count > SIZE_MAX / size)
        return -1;
    *out = count * size;
    return 0;
}

size_t dssi_sat_add(size_t a, size_t b)
{
    return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

size_t dssi_sat_mul(size_t a, size_t b)
{
    return b != 0 && a > SIZE_MAX / b ? SIZE_MAX : a * b;
}

void *dssi_mem_alloc(const mem_allocator *a, size_t size)
{
    unsigned char *block;
    if (size > SIZE_MAX - HEADER)
        return NULL;
    block = a->alloc(a->user, size + HEADER);
    if (block == NULL)
        return NULL;
    memcpy(block, &size, sizeof size);
    if (a->meter != NULL) {
        a->meter->held += size;
        if (a->meter->held > a->meter->peak)
            a->meter->peak = a->meter->held;
    }
    return block + HEADER;
}

void *dssi_mem_array(const mem_allocator *a, size_t count, size_t size)
{
    size_t bytes;
    if (dssi_mem_mul(count, size, &bytes) != 0)
        return NULL;
    return dssi_mem_alloc(a, bytes);
}

void *dssi_mem_zeros(const mem_allocator *a, size_t count, size_t size)
{
    size_t bytes;
    void *p;
    if (dssi_mem_mul(count, size, &bytes) != 0)
        return NULL;
    p = dssi_mem_alloc(a, bytes);
    if (p != NULL)
        memset(p, 0, bytes);
    return p;
}

void dssi_mem_free(const mem_allocator *a, void *ptr)
{
    unsigned char *block;
    size_t size;
    if (ptr == NULL)
        return;
    block = (unsigned char *)ptr - HEADER;
    memcpy(&size, block, sizeof size);
    if (a->meter != NULL)
        a->meter->held -= size;
    a->free(a->user, block);
}

int dssi_mem_grow(const mem_allocator *a, void **buf, size_t *cap, size_t count, size_t size)
{
    void *p;
    if (*buf != NULL && *cap >= count)
        return DSS_OK;
    p = dssi_mem_array(a, count, size);
    if (p == NULL)
        return DSS_ENOMEM;
    dssi_mem_free(a, *buf);
    *buf = p;
    *cap = count;
    return DSS_OK;
}
