/*  coord_keys -- CURVE keys for running across machines.
 *
 *  `coordinator keygen DIR [--clients N] [--group GROUP]` writes
 *      DIR/server.cert, DIR/server.cert_secret   the coordinator's certificate
 *      DIR/clients/agent-I.cert                  public keys the coordinator accepts
 *      DIR/agents/agent-I.cert(_secret)          certificates to copy to agent hosts
 *  public files 0644, secret files 0600 and DIR/agents/ 0700 -- or, with
 *  --group, secret files 0640 and DIR/agents/ 0750 owned by GROUP, for a
 *  service user that is not root (scripts/cluster/systemd/). `coordinator run
 *  --listen tcp://0.0.0.0:PORT --keys DIR` then accepts only agentds presenting
 *  one of DIR/clients/, and proves at start that an unknown key and a plaintext
 *  client are refused.
 */
#ifndef COORD_KEYS_H
#define COORD_KEYS_H

/* `coordinator keygen ...` (argv[0] = "keygen"). Returns the exit code. */
int coord_keygen_main(int argc, char **argv);

#endif
