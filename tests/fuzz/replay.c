/* Replay fuzz inputs through the fuzz target without libFuzzer: every
 * file named, or every file under a directory named.  A *.json, *.yaml or
 * *.yml file is a plain input and gets a zero configuration byte in front;
 * other files (libFuzzer's crash-* files, regressions/) are used as they
 * are.  Under the sanitized build a crash fails the test. */
#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	size_t len = strlen(path), n = 0, cap = 65536, r;
	bool json = (len > 5 && !strcmp(path + len - 5, ".json")) ||
		    (len > 5 && !strcmp(path + len - 5, ".yaml")) ||
		    (len > 4 && !strcmp(path + len - 4, ".yml"));
	FILE *f = fopen(path, "rb");
	char *d = calloc(1, cap);

	if (!f || !d) {
		perror(path);
		free(d);
		if (f)
			fclose(f);
		return -1;
	}
	n = json;	/* d[0] == 0: the configuration byte */
	do {
		if (n == cap) {
			cap *= 2;
			d = realloc(d, cap);
			if (!d)
				abort();
		}
		r = fread(d + n, 1, cap - n, f);
		n += r;
	} while (r);
	fclose(f);
	LLVMFuzzerTestOneInput((const uint8_t *)d, n);
	free(d);
	return 0;
}

static int run_path(const char *path, size_t *count)
{
	struct dirent **ents;
	struct stat st;
	int n, rc = 0;

	if (stat(path, &st) < 0) {
		perror(path);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		(*count)++;
		return run_file(path);
	}
	n = scandir(path, &ents, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		char p[4096];

		if (ents[i]->d_name[0] != '.') {
			snprintf(p, sizeof(p), "%s/%s", path, ents[i]->d_name);
			rc |= run_path(p, count);
		}
		free(ents[i]);
	}
	free(ents);
	return n < 0 ? -1 : rc;
}

int main(int argc, char **argv)
{
	size_t count = 0;
	int rc = 0;

	for (int i = 1; i < argc; i++)
		rc |= run_path(argv[i], &count);
	printf("replayed %zu inputs\n", count);
	return rc ? 1 : 0;
}
