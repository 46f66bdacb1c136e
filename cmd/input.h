/* input: the files a command reads (a file, a directory's manifests,
 * standard input) into a model; compiler/load.c decodes their bytes. */
#ifndef SVCNFT_INPUT_H
#define SVCNFT_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "svcnft.h"

/* Load a path: a file, a directory (its *.json, *.yaml and *.yml files,
 * sorted; other names with such an extension are warnings) or "-".  A file
 * is YAML when named *.yaml or *.yml, JSON when named *.json, otherwise
 * (and on stdin) JSON when it starts with '{' or '['. */
void input_load_path(struct svcnft_model *m, const char *path,
		     struct svcnft_errors *errs);
/* A digest of the files input_load_path would read for PATHS (their names
 * and bytes, in that order), without parsing them; false when it would not
 * say the same as the model's (svcnft_model_input_digest): an input is
 * stdin, or reading it reports anything (a missing file, a name not read). */
bool input_digest(const char *const *paths, size_t n_paths, uint64_t *digest);
/* EACH("DIR/NAME", whether NAME is a manifest, ARG) for every entry of
 * directory DIR not starting with '.', in alphabetical order: the count
 * of manifests, or -errno if DIR cannot be listed. */
int input_dir_each(const char *dir,
		   void (*each)(const char *path, bool manifest, void *arg),
		   void *arg);

#endif
