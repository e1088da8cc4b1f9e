"""The inbox of SPEC §8: ``folders`` (the per-account drop folders: what is waiting, settled
or refused), ``maildir`` (the e-mails waiting in ``inbox/mail/``), ``moves`` (archive and
quarantine once a batch or message is done)."""
