/* The cluster key: 32 secret bytes every member holds (paths.key_file),
 * and during a key roll a second one it also accepts (paths.key_file_next).
 *
 * Members prove they hold it, and derive the keys of each connection and
 * the MACs of gossip from it (lib/seal.h, gossip/codec.h).  A key is named
 * on the wire by its id, a hash of it, so that a receiver knows which of
 * its keys a peer used without trying both; the id reveals nothing of the
 * key. */
#ifndef FT_KEYRING_H
#define FT_KEYRING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FT_KEY_BYTES 32
#define FT_KEY_ID_BYTES 8

struct ft_cluster_key {
	uint8_t bytes[FT_KEY_BYTES];
	uint8_t id[FT_KEY_ID_BYTES];
};

struct ft_keyring {
	struct ft_cluster_key current; /* what this member uses to speak */
	struct ft_cluster_key next;    /* also accepted, if has_next */
	bool has_next;
};

/* Loads the key in path and, if next_path is not empty, the next one.
 * A key file holds 32 bytes, raw or as 64 hex digits (a final newline is
 * allowed), and no one but its owner may read it.  Returns 0, or -1 with
 * "paths.key_file <path>: why" in err; *kr is then wiped. */
int ft_keyring_load(struct ft_keyring *kr, const char *path, const char *next_path, char *err,
		    size_t errlen);

/* Parses the contents of a key file (the rules above); 0 or -1. */
int ft_key_parse(struct ft_cluster_key *k, const unsigned char *data, size_t len);

/* Computes k->id from k->bytes. */
void ft_key_set_id(struct ft_cluster_key *k);

/* The key of kr whose id is id, or NULL. */
const struct ft_cluster_key *ft_keyring_find(const struct ft_keyring *kr, const uint8_t *id);

/* A new random key, in the raw form a key file holds. */
void ft_key_generate(uint8_t out[FT_KEY_BYTES]);

void ft_keyring_wipe(struct ft_keyring *kr);

/* The process's keys: what connections (lib/conn.h) and gossip use.  A
 * daemon installs them at start and again at every reload, on its loop
 * thread, which is the only thread that uses them.  Before the first
 * install, a ring with no usable key: every handshake fails. */
void ft_keyring_install(const struct ft_keyring *kr);
const struct ft_keyring *ft_keyring_active(void);
bool ft_keyring_is_installed(void);

/* The id of a key as 16 hex digits, for logs (NUL-terminated). */
void ft_key_id_hex(const struct ft_cluster_key *k, char out[2 * FT_KEY_ID_BYTES + 1]);

#endif
