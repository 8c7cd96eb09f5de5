/* The one allocation path of the library. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <dss/dss.h>

#include "mem.h"

static void *default_alloc(void *user, size_t size) { (void)user; return malloc(size); }
static void default_free(void *user, void *ptr) { (void)user; free(ptr); }

const mem_allocator mem_default = { default_alloc, default_free, NULL };

int mem_mul(size_t count, size_t size, size_t *out)
{
    if (size != 0 && count > SIZE_MAX / size)
        return -1;
    *out = count * size;
    return 0;
}

void *mem_alloc(const mem_allocator *a, size_t size)
{
    if (size == 0)
        size = 1; /* a valid, freeable pointer for empty arrays */
    return a->alloc(a->user, size);
}

void *mem_array(const mem_allocator *a, size_t count, size_t size)
{
    size_t bytes;
    if (mem_mul(count, size, &bytes) != 0)
        return NULL;
    return mem_alloc(a, bytes);
}

void *mem_zeros(const mem_allocator *a, size_t count, size_t size)
{
    size_t bytes;
    void *p;
    if (mem_mul(count, size, &bytes) != 0)
        return NULL;
    p = mem_alloc(a, bytes);
    if (p != NULL)
        memset(p, 0, bytes);
    return p;
}

void mem_free(const mem_allocator *a, void *ptr)
{
    if (ptr != NULL)
        a->free(a->user, ptr);
}

int mem_from_host(mem_allocator *out, const dss_allocator *host)
{
    if (host == NULL) {
        *out = mem_default;
        return 0;
    }
    if (host->alloc == NULL || host->free == NULL)
        return -1;
    *out = (mem_allocator){ host->alloc, host->free, host->user };
    return 0;
}
