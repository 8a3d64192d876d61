/**
 * @file pattern.h
 * @brief The byte pattern of the local server's bodies, so clients can check them.
 */
#ifndef PATTERN_H
#define PATTERN_H

#include <stddef.h>

/** Byte @p i of every /bytes and /drip body: a, b, ... z, a, ... */
static inline char pattern_byte(size_t i) { return (char)('a' + i % 26); }

#endif
