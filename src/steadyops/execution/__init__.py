"""Where and how a command for a target runs: this machine or its host over SSH.

One lower layer that inspection and remediation share, so they agree on the machine they mean:

* :mod:`.where` — the one answer to "is it local" (:func:`~.where.is_local`), the record a plan
  keeps of where it runs (:func:`~.where.exec_record`) and the read-only access a check gets
  (:func:`~.where.host_for`);
* :mod:`.access` — read-only inspection: allow-listed commands and files, :class:`~.access.LocalHost`;
* :mod:`.logins` — one App's SSH: its settings (its own known_hosts under its data dir) and its
  connection pools, made by the composition root and passed to whatever reaches a remote host;
* :mod:`.ssh` — the SSH login, the known-hosts trust policy, the connection pool and ``SshHost``
  (asyncssh, the extra ``ssh``: imported only when a target is remote);
* :mod:`.shell` — the mutating verbs an action's steps use (``LocalShell`` / ``SshShell``), with the
  allow-list :class:`~.shell.Guard` judged on the target host, and the code they ship there
  (:mod:`.fsops`, the race-free delete walk) or run here (:mod:`.archive`);
* :mod:`.errors` — :class:`~.errors.HostAccessError` (could not ask the host) and
  :class:`~.errors.ShellError` (a step's command failed).

Nothing here imports remediation, a stage or an integration: they all import this.
"""
