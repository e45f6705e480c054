/*
 * uuid.h — random (version 4) UUIDs, lower-case hex: the ids of executions, actions,
 * jobs, deployments, builds, function revisions and events.
 */
#ifndef FERRY_UUID_H
#define FERRY_UUID_H

#define UUID_LEN 36 /* without the final '\0' */

/* Writes "xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx" and a '\0'. */
void uuid4(char out[UUID_LEN + 1]);

#endif
