/* fileio: whole files in and out (fileio.h). */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "fileio.h"
#include "util.h"

bool buf_read_file(struct svcnft_buf *b, const char *path)
{
	FILE *f = fopen(path, "r");
	char chunk[65536];
	size_t n;

	if (!f)
		return false;
	buf_puts(b, "");
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(b, chunk, n);
	n = (size_t)ferror(f);
	fclose(f);
	return !n;
}

bool write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}
