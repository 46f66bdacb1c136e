/* jalloc: a bump block per thread behind json_set_alloc_funcs. */
#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "jalloc.h"
#include "util.h"

#define BLOCK_SIZE ((size_t)1 << 20)
#define ALIGN 16

static _Thread_local char *block;
static _Thread_local size_t used, live;	/* bytes handed out, blocks not freed */
static _Thread_local bool on;
static pthread_once_t installed = PTHREAD_ONCE_INIT;

static bool in_block(const void *p)
{
	return block && (uintptr_t)p - (uintptr_t)block < BLOCK_SIZE;
}

static void *jmalloc(size_t n)
{
	size_t r = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	void *p;

	if (!on || r < n || r > BLOCK_SIZE - used)
		return malloc(n);
	p = block + used;
	used += r;
	live++;
	return p;
}

static void jfree(void *p)
{
	if (in_block(p))
		live--;
	else
		free(p);
}

static void install(void)
{
	json_set_alloc_funcs(jmalloc, jfree);
}

void jalloc_begin(void)
{
	pthread_once(&installed, install);
	if (!block)
		block = xmalloc(BLOCK_SIZE);
	on = true;
}

void jalloc_end(void)
{
	on = false;
	if (live)	/* a value kept past its item: reusing would corrupt it */
		abort();
	used = 0;
}

void jalloc_release(void)
{
	free(block);
	block = NULL;
}
