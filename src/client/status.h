/* The status table, shared by status and watch. */
#ifndef FTCTL_STATUS_H
#define FTCTL_STATUS_H

#include <json-c/json.h>

/* Prints view (a GET /v1/cluster answer) as the table on stdout, with the
 * RUNNING column from GET /v1/recent; 0 with a leader, 1 without. */
int ftctl_show_status(struct json_object *view);

#endif
