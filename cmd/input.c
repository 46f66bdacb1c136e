/* input: the files a command reads into a model (input.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "input.h"
#include "limits.h"
#include "model.h"
#include "util.h"

/* A file descriptor as a svcnft_reader: read(2), EINTR retried. */
static ssize_t fd_read(void *arg, void *buf, size_t len)
{
	ssize_t n;

	do
		n = read(*(int *)arg, buf, len);
	while (n < 0 && errno == EINTR);
	return n;
}

/* Read FD whole, or up to one byte past the input-bytes limit, straight
 * into one buffer sized from fstat when FD is a regular file.  (Not mmap:
 * a file truncated while mapped would kill the process with SIGBUS.) */
static bool read_fd(int fd, struct svcnft_buf *b)
{
	size_t max = limits_cur()->input_bytes;
	struct stat st;
	ssize_t n;

	b->cap = 65536;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
		b->cap = (size_t)st.st_size + 2;
	if (b->cap > max + 2)
		b->cap = max + 2;
	b->data = xmalloc(b->cap);
	for (;;) {
		if (b->cap - b->len < 2)
			b->data = xrealloc(b->data, b->cap *= 2);
		n = fd_read(&fd, b->data + b->len, b->cap - b->len - 1);
		if (n < 0)
			return false;
		if (n == 0 || (b->len += (size_t)n) > max)
			break;
	}
	b->data[b->len] = '\0';
	return true;
}

/* A file: hashed only (digest_only); streamed when it is a regular *.json
 * file; else read whole, then YAML or JSON. */
static void load_file(struct svcnft_model *m, const char *path, int fd,
		      struct svcnft_errors *errs)
{
	struct svcnft_reader r = { fd_read, &fd };
	struct svcnft_buf b = {0};
	struct stat st;

	if (m->digest_only) {
		svcnft_model_hash_stream(m, path, &r, errs);
		return;
	}
	if (svcnft_json_name(path) && !fstat(fd, &st) && S_ISREG(st.st_mode)) {
		svcnft_model_load_stream(m, path, (uint64_t)st.st_size, &r, errs);
		return;
	}
	if (!read_fd(fd, &b))
		errs_add(errs, SVCNFT_EUSAGE, "%s: %s", path, strerror(errno));
	else
		svcnft_model_load_file(m, path, &b, errs);
	svcnft_buf_free(&b);
}

/* Names that look meant to be read but are not: *.JSON, x.yaml.orig. */
static bool near_manifest_name(const char *n)
{
	for (; (n = strchr(n, '.')) != NULL; n++)
		if (!strncasecmp(n, ".json", 5) || !strncasecmp(n, ".yaml", 5) ||
		    !strncasecmp(n, ".yml", 4))
			return true;
	return false;
}

static int visible(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

int input_dir_each(const char *dir,
		   void (*each)(const char *path, bool manifest, void *arg),
		    void *arg)
{
	struct dirent **ents;
	int n = scandir(dir, &ents, visible, alphasort), manifests = 0;

	if (n < 0)
		return -errno;
	for (int i = 0; i < n; i++) {
		struct svcnft_buf p = {0};
		bool manifest = svcnft_manifest_name(ents[i]->d_name);

		buf_printf(&p, "%s/%s", dir, ents[i]->d_name);
		each(p.data, manifest, arg);
		manifests += manifest;
		svcnft_buf_free(&p);
		free(ents[i]);
	}
	free(ents);
	return manifests;
}

struct dir_load {
	struct svcnft_model *m;
	struct svcnft_errors *errs;
};

static void load_entry(const char *path, bool manifest, void *arg)
{
	struct dir_load *d = arg;
	const char *name = strrchr(path, '/') + 1;

	if (manifest)
		input_load_path(d->m, path, d->errs);
	else if (near_manifest_name(name))
		errs_add(d->errs, SVCNFT_OK, "%s: warning: not read: a directory is read for its *.json, *.yaml and *.yml files only",
			 path);
}

static void load_dir(struct svcnft_model *m, const char *path,
		     struct svcnft_errors *errs)
{
	int n = input_dir_each(path, load_entry, &(struct dir_load){ m, errs });

	if (n < 0)
		errs_add(errs, SVCNFT_EUSAGE, "%s: %s", path, strerror(-n));
	else if (n == 0)	/* e.g. a volume not mounted yet: not "no services" */
		errs_add(errs, SVCNFT_EUSAGE, "%s: no *.json, *.yaml or *.yml files in the directory",
			 path);
}

void input_load_path(struct svcnft_model *m, const char *path,
		     struct svcnft_errors *errs)
{
	struct stat st;
	int fd;

	if (!strcmp(path, "-")) {
		m->read_stdin = true;
		if (!m->digest_only)
			load_file(m, "<stdin>", STDIN_FILENO, errs);
		return;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		errs_add(errs, SVCNFT_EUSAGE, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	if (S_ISDIR(st.st_mode)) {
		load_dir(m, path, errs);
		/* removed meanwhile: its listing may be partial or empty */
		if (fstat(fd, &st) == 0 && st.st_nlink == 0)
			errs_add(errs, SVCNFT_EUSAGE, "%s: directory removed while being read",
				 path);
	} else
		load_file(m, path, fd, errs);
	close(fd);
}

bool input_digest(const char *const *paths, size_t n_paths, uint64_t *digest)
{
	struct svcnft_model *m = svcnft_model_new();
	struct svcnft_errors errs = {0};
	bool ok;

	m->digest_only = true;
	for (size_t i = 0; i < n_paths; i++)
		input_load_path(m, paths[i], &errs);
	ok = !m->read_stdin && errs.n == 0;
	*digest = m->input_digest;
	svcnft_errors_free(&errs);
	svcnft_model_free(m);
	return ok;
}
