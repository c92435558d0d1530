#include "lib/keyring.h"

#include <sodium.h>
#include <string.h>

#include "lib/secretfile.h"
#include "lib/util.h"

/* Domain separation: the id is a keyed hash of a fixed label, so it can
 * be published without saying anything about the key. */
static const char id_label[] = "ftcluster key id v1";

static struct ft_keyring active;
static bool installed;

void ft_keyring_install(const struct ft_keyring *kr)
{
	active = *kr;
	installed = true;
}

const struct ft_keyring *ft_keyring_active(void)
{
	return &active;
}

bool ft_keyring_is_installed(void)
{
	return installed;
}

void ft_key_set_id(struct ft_cluster_key *k)
{
	uint8_t h[crypto_generichash_BYTES_MIN];
	crypto_generichash(h, sizeof(h), (const unsigned char *)id_label, sizeof(id_label) - 1,
			   k->bytes, sizeof(k->bytes));
	memcpy(k->id, h, sizeof(k->id));
}

int ft_key_parse(struct ft_cluster_key *k, const unsigned char *data, size_t len)
{
	memset(k, 0, sizeof(*k));
	if (len == FT_KEY_BYTES) {
		memcpy(k->bytes, data, FT_KEY_BYTES);
	} else {
		size_t n = ft_secret_trim_newlines(data, len);
		size_t bin_len = 0;
		if (n != 2 * FT_KEY_BYTES ||
		    sodium_hex2bin(k->bytes, sizeof(k->bytes), (const char *)data, n, NULL,
				   &bin_len, NULL) != 0 ||
		    bin_len != FT_KEY_BYTES) {
			sodium_memzero(k, sizeof(*k));
			return -1;
		}
	}
	ft_key_set_id(k);
	return 0;
}

static int load_one(struct ft_cluster_key *k, const char *label, const char *path, char *err,
		    size_t errlen)
{
	/* Room for the hex form and a CRLF, and one more to tell longer. */
	unsigned char buf[2 * FT_KEY_BYTES + 3];
	size_t len = 0;
	if (ft_secret_file_read(label, path, true, buf, sizeof(buf), &len, err, errlen) < 0)
		return -1;
	int r = ft_key_parse(k, buf, len);
	sodium_memzero(buf, sizeof(buf));
	if (r < 0)
		ft_set_err(err, errlen,
			   "%s %s: not a cluster key (want 32 bytes, raw or as 64 hex digits; "
			   "make one with ftctl keygen)",
			   label, path);
	return r;
}

int ft_keyring_load(struct ft_keyring *kr, const char *path, const char *next_path, char *err,
		    size_t errlen)
{
	memset(kr, 0, sizeof(*kr));
	if (load_one(&kr->current, "paths.key_file", path, err, errlen) < 0)
		goto fail;
	if (next_path && *next_path) {
		if (load_one(&kr->next, "paths.key_file_next", next_path, err, errlen) < 0)
			goto fail;
		kr->has_next = true;
	}
	return 0;
fail:
	ft_keyring_wipe(kr);
	return -1;
}

const struct ft_cluster_key *ft_keyring_find(const struct ft_keyring *kr, const uint8_t *id)
{
	if (sodium_memcmp(kr->current.id, id, FT_KEY_ID_BYTES) == 0)
		return &kr->current;
	if (kr->has_next && sodium_memcmp(kr->next.id, id, FT_KEY_ID_BYTES) == 0)
		return &kr->next;
	return NULL;
}

void ft_key_generate(uint8_t out[FT_KEY_BYTES])
{
	randombytes_buf(out, FT_KEY_BYTES);
}

void ft_keyring_wipe(struct ft_keyring *kr)
{
	sodium_memzero(kr, sizeof(*kr));
}

void ft_key_id_hex(const struct ft_cluster_key *k, char out[2 * FT_KEY_ID_BYTES + 1])
{
	sodium_bin2hex(out, 2 * FT_KEY_ID_BYTES + 1, k->id, FT_KEY_ID_BYTES);
}
