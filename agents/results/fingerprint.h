/*
 * fingerprint — stable identities for static-analysis findings.
 *
 * Recipe (version 1; the value is "fp1:" + 16 hex digits of a 64-bit FNV-1a hash):
 *   h = FNV-1a over, each part followed by a 0 byte:
 *     tool, rule,
 *     the file path relative to the root (the root prefix and "/" removed when present),
 *     the message with every run of digits replaced by "#" (line numbers, counts move),
 *     the source text of lines [line, end_line] (at most 16 lines) when the file is
 *       readable: each line trimmed, runs of blanks collapsed to one space;
 *       for duplications (phpcpd) the code fragment instead, normalized the same way.
 *   then the occurrence index of that h among the findings of the same report file
 *   (and the same <file> element for checkstyle/pmd: 0 for the first, 1 for the next
 *   identical one, ...) is hashed in, so identical findings stay distinct.
 * Nothing in the recipe depends on the line number itself: a finding keeps its
 * fingerprint when code above it moves, and changes when its own line changes.
 *
 * rs_fp_* hashing is pure. struct rs_fp_src reads source files (bounded: files up to
 * RS_FP_SRC_MAX bytes, one file cached at a time); it is the module's only I/O.
 */
#ifndef SV_RESULTS_FINGERPRINT_H
#define SV_RESULTS_FINGERPRINT_H

#include <stddef.h>
#include <stdint.h>

#define RS_FP_SRC_MAX (1024 * 1024)
#define RS_FP_MAX_LINES 16
#define RS_FP_OCC_SLOTS 4096

#define RS_FNV_INIT UINT64_C(0xcbf29ce484222325)

uint64_t rs_fnv(uint64_t h, const void *data, size_t n);
/* Hashes s (NUL-terminated, may be NULL) followed by a 0 byte. */
uint64_t rs_fnv_str(uint64_t h, const char *s);
/* Hashes s with digit runs replaced by '#', then a 0 byte. */
uint64_t rs_fnv_nodigits(uint64_t h, const char *s);
uint64_t rs_fnv_nodigits_n(uint64_t h, const char *s, size_t n);

/* Whitespace-normalizing hash for text that arrives in pieces (code fragments, source
 * lines): leading/trailing blanks of each line dropped, inner runs collapsed. */
struct rs_fp_norm {
	uint64_t h;
	int pending_space; /* a blank run seen after non-blank text on this line */
	int line_has_text;
};
void rs_fp_norm_init(struct rs_fp_norm *n);
void rs_fp_norm_feed(struct rs_fp_norm *n, const char *s, size_t len);
uint64_t rs_fp_norm_end(struct rs_fp_norm *n);

/* Occurrence counting of identical hashes; bounded (RS_FP_OCC_SLOTS). When full, the
 * index counts every finding since the last reset (still stable for identical input). */
struct rs_fp_occ {
	uint64_t key[RS_FP_OCC_SLOTS];
	unsigned count[RS_FP_OCC_SLOTS];
	unsigned gen[RS_FP_OCC_SLOTS]; /* a slot is in use when gen[j] == cur_gen */
	unsigned cur_gen;              /* reset is O(1): a new generation */
	unsigned used;
	unsigned overflow;
};
void rs_fp_occ_init(struct rs_fp_occ *o);
void rs_fp_occ_reset(struct rs_fp_occ *o);
unsigned rs_fp_occ_next(struct rs_fp_occ *o, uint64_t h);

/* "fp1:%016llx" into buf (at least 21 bytes). */
void rs_fp_format(uint64_t h, char *buf);

/* Path as hashed: the root prefix (and the following '/') removed when present. */
const char *rs_fp_relpath(const char *path, const char *root);

struct rs_fp_src;
struct rs_fp_src *rs_fp_src_new(void);
void rs_fp_src_free(struct rs_fp_src *s);
/* Hashes the normalized text of lines [first, last] of path (relative paths are taken
 * under root when root is not NULL). Returns 0 and updates *h, or -1 when the file
 * cannot be read (then *h is unchanged). */
int rs_fp_src_lines(struct rs_fp_src *s, const char *root, const char *path, long first, long last,
		    uint64_t *h);

#endif
