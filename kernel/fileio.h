/* fileio: whole files in and out (the saved state, a template, diff's
 * --against, watch's files). */
#ifndef SVCNFT_FILEIO_H
#define SVCNFT_FILEIO_H

#include <stdbool.h>
#include <stddef.h>

#include "svcnft.h"

/* Append the whole file PATH to B (B->data is set even when it is empty);
 * false on an error. */
bool buf_read_file(struct svcnft_buf *b, const char *path);
/* Write all N bytes of P to FD (retrying EINTR and short writes); false
 * with errno on an error. */
bool write_all(int fd, const char *p, size_t n);

#endif
