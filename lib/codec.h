/* The saved-session format's one codec (docs/format.md): fixed-width little-endian integers
 * and IEEE-754 doubles as their bit patterns, whatever the host's byte order, and the header's
 * named offsets. persist.c (the string) and radius.c (the policy's state block) both write and
 * read through these, and nothing else does. */
#ifndef DSS_CODEC_H
#define DSS_CODEC_H

#include <stdint.h>
#include <string.h>

/* The header (48 bytes): magic, version (u32), byte-order mark (u32), total length, n, m, l. */
#define CODEC_AT_MAGIC    0u
#define CODEC_AT_VERSION  8u
#define CODEC_AT_BOM      12u
#define CODEC_AT_LENGTH   16u
#define CODEC_AT_N        24u
#define CODEC_AT_M        32u
#define CODEC_AT_L        40u
#define CODEC_HEADER_BYTES 48u
#define CODEC_CRC_BYTES    4u   /* the CRC-32 of everything before it ends the string */

/* bytes (1..8) of v, least significant first */
static inline void codec_put_le(unsigned char *out, uint64_t v, unsigned bytes)
{
    for (unsigned i = 0; i < bytes; i++)
        out[i] = (unsigned char)(v >> (8 * i));
}

static inline uint64_t codec_get_le(const unsigned char *in, unsigned bytes)
{
    uint64_t v = 0;
    for (unsigned i = bytes; i-- > 0;)
        v = (v << 8) | in[i];
    return v;
}

static inline void codec_put_f64(unsigned char *out, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    codec_put_le(out, bits, 8);
}

static inline double codec_get_f64(const unsigned char *in)
{
    uint64_t bits = codec_get_le(in, 8);
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

#endif
