/* jalloc: arenas behind json_set_alloc_funcs, and a decode thread with a
 * ring of slots (one arena each). */
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "jalloc.h"
#include "util.h"

#define ARENA_SIZE ((size_t)1 << 20)
#define SLOTS 64
#define INLINE 16		/* items decoded before the thread starts */
#define ARENAS (2 * SLOTS)	/* two decoders at a time */
#define ALIGN 16

/* Arenas: one mapping, so free knows an arena's block by its address.  An
 * arena is used by one thread at a time: the decoder's while it decodes,
 * then the caller's while it reads and drops the value. */
static struct arena {
	size_t used, live;	/* bytes handed out, blocks not freed */
	bool taken;
} arenas[ARENAS];
static char *region;
static _Thread_local struct arena *cur;	/* where this thread allocates */
static pthread_mutex_t arenas_lock = PTHREAD_MUTEX_INITIALIZER;

static void *jmalloc(size_t n)
{
	size_t r = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	struct arena *a = cur;
	void *p;

	if (!a || r < n || r > ARENA_SIZE - a->used)
		return malloc(n);
	p = region + (size_t)(a - arenas) * ARENA_SIZE + a->used;
	a->used += r;
	a->live++;
	return p;
}

static void jfree(void *p)
{
	uintptr_t off = (uintptr_t)p - (uintptr_t)region;

	if (region && off < ARENAS * ARENA_SIZE)
		arenas[off / ARENA_SIZE].live--;
	else
		free(p);
}

/* The mapping (untouched pages cost nothing; no huge pages: a touched
 * byte would make 2 MB resident) and the allocation functions, once. */
static void install(void)
{
	void *p = mmap(NULL, ARENAS * ARENA_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return;
	madvise(p, ARENAS * ARENA_SIZE, MADV_NOHUGEPAGE);
	region = p;
	json_object_seed(0);	/* before any thread decodes */
	json_set_alloc_funcs(jmalloc, jfree);
}

/* A free arena, or NULL (then malloc). */
static struct arena *arena_take(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct arena *a = NULL;

	pthread_once(&once, install);
	pthread_mutex_lock(&arenas_lock);
	for (size_t i = 0; region && i < ARENAS && !a; i++)
		if (!arenas[i].taken)
			a = &arenas[i];
	if (a)
		a->taken = true;
	pthread_mutex_unlock(&arenas_lock);
	return a;
}

/* Every value in A is gone: reuse it. */
static void arena_reset(struct arena *a)
{
	if (!a)
		return;
	if (a->live)	/* a value kept past its item: reusing would corrupt it */
		abort();
	a->used = 0;
}

static void arena_give(struct arena *a)
{
	arena_reset(a);
	pthread_mutex_lock(&arenas_lock);
	if (a)
		a->taken = false;
	pthread_mutex_unlock(&arenas_lock);
}

struct slot {
	struct svcnft_buf buf;
	size_t tag[2];
	json_t *v;
	json_error_t je;
	struct arena *arena;
};

/* Item N is in slot N % SLOTS; got <= done <= put.  Each side sleeps
 * until the other is SLOTS / 2 items ahead (or done): a wakeup costs more
 * than an item. */
struct decoder {
	struct slot slot[SLOTS];
	size_t put, done, got;	/* items put, decoded, handed out */
	size_t wake_at;		/* the caller sleeps until done reaches it (0: not) */
	bool idle;		/* the thread sleeps until put - done >= SLOTS / 2 */
	bool held, quit, threaded, tried;	/* held: item got-1 not dropped yet */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t work, ready;
};

static void decode_slot(struct slot *sl)
{
	cur = sl->arena;
	sl->v = json_loadb(sl->buf.data, sl->buf.len, JSON_DECODE_ANY, &sl->je);
	cur = NULL;
}

static void *run(void *arg)
{
	struct decoder *d = arg;

	pthread_mutex_lock(&d->lock);
	for (;;) {
		while (!d->quit && d->done == d->put) {
			d->idle = true;
			pthread_cond_wait(&d->work, &d->lock);
		}
		if (d->quit)
			break;
		pthread_mutex_unlock(&d->lock);
		decode_slot(&d->slot[d->done % SLOTS]);
		pthread_mutex_lock(&d->lock);
		if (++d->done == d->wake_at) {
			d->wake_at = 0;
			pthread_cond_signal(&d->ready);
		}
	}
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

struct decoder *decoder_new(void)
{
	struct decoder *d = xcalloc(1, sizeof(*d));

	for (size_t i = 0; i < SLOTS; i++)
		d->slot[i].arena = arena_take();
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->work, NULL);
	pthread_cond_init(&d->ready, NULL);
	return d;
}

/* The thread, once a list is long enough to be worth it (none for the
 * few items of a watched file); it takes no signal: they stay the
 * caller's. */
static void start(struct decoder *d)
{
	sigset_t all, old;

	d->tried = true;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	d->threaded = !pthread_create(&d->thread, NULL, run, d);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

void decoder_drop(struct decoder *d, json_t *v)
{
	json_decref(v);
	if (d->held)
		arena_reset(d->slot[(d->got - 1) % SLOTS].arena);
	d->held = false;
}

void decoder_free(struct decoder *d)
{
	size_t tag[2];
	json_error_t je;

	if (!d)
		return;
	decoder_drop(d, NULL);
	while (decoder_queued(d))
		decoder_drop(d, decoder_get(d, tag, &je));
	if (d->threaded) {
		pthread_mutex_lock(&d->lock);
		d->quit = true;
		pthread_cond_signal(&d->work);
		pthread_mutex_unlock(&d->lock);
		pthread_join(d->thread, NULL);
	}
	for (size_t i = 0; i < SLOTS; i++) {
		arena_give(d->slot[i].arena);
		svcnft_buf_free(&d->slot[i].buf);
	}
	pthread_mutex_destroy(&d->lock);
	pthread_cond_destroy(&d->work);
	pthread_cond_destroy(&d->ready);
	free(d);
}

bool decoder_room(const struct decoder *d)
{
	return d->put - d->got + d->held < SLOTS;
}

size_t decoder_queued(const struct decoder *d)
{
	return d->put - d->got;
}

void decoder_put(struct decoder *d, struct svcnft_buf *buf, const size_t tag[2])
{
	struct slot *sl = &d->slot[d->put % SLOTS];
	struct svcnft_buf t = sl->buf;

	sl->buf = *buf;
	*buf = t;
	buf->len = 0;
	memcpy(sl->tag, tag, sizeof(sl->tag));
	if (!d->tried && d->put >= INLINE)
		start(d);
	if (!d->threaded) {
		decode_slot(sl);
		d->put++;
		d->done++;
		return;
	}
	pthread_mutex_lock(&d->lock);
	if (++d->put - d->done >= SLOTS / 2 && d->idle) {
		d->idle = false;
		pthread_cond_signal(&d->work);
	}
	pthread_mutex_unlock(&d->lock);
}

json_t *decoder_get(struct decoder *d, size_t tag[2], json_error_t *je)
{
	struct slot *sl = &d->slot[d->got % SLOTS];

	decoder_drop(d, NULL);
	pthread_mutex_lock(&d->lock);
	if (d->done == d->got && d->idle) {	/* fewer than SLOTS / 2 put */
		d->idle = false;
		pthread_cond_signal(&d->work);
	}
	while (d->done == d->got) {
		d->wake_at = d->got + SLOTS / 2 < d->put ? d->got + SLOTS / 2 : d->put;
		pthread_cond_wait(&d->ready, &d->lock);
	}
	pthread_mutex_unlock(&d->lock);
	d->got++;
	d->held = true;
	memcpy(tag, sl->tag, sizeof(sl->tag));
	*je = sl->je;
	return sl->v;
}
