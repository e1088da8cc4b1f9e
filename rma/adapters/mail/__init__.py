"""E-mail intake (SPEC §3, §6, §8): messages in, claim batches out, one reply per message."""
