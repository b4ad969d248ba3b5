"""HTML, PDF, plain text and encodings all become cited lines."""

from __future__ import annotations

import pytest

from steadyops.core.errors import ValidationFailed
from steadyops.knowledge import KnowledgeBase, chunk_document, load_bytes

from .pdf import make_pdf

HTML = """<!doctype html>
<html><head><title>MySQL runbook</title>
<style>body { color: red; }</style>
<script>alert("steal the cookies");</script></head>
<body>
<h1>MySQL replication</h1>
<p>Replicas can lag behind the source.</p>
<h2>Checks</h2>
<ul>
  <li>Run <code>SHOW REPLICA STATUS</code></li>
  <li>Compare positions</li>
</ul>
<pre>
mysql -e 'SHOW REPLICA STATUS\\G'
</pre>
<h2>Remediation</h2>
<p>Enable parallel apply with
   replica_parallel_workers.</p>
</body></html>
"""


def test_html_keeps_visible_text_drops_scripts_and_styles() -> None:
    doc = load_bytes("mysql.html", HTML.encode())
    assert doc.title == "MySQL runbook"
    text = "\n".join(line.text for line in doc.lines)
    assert "steal the cookies" not in text and "color: red" not in text
    chunks = chunk_document(doc)
    assert [c.heading for c in chunks] == ["MySQL replication", "MySQL replication > Checks",
                                           "MySQL replication > Remediation"]
    source = HTML.splitlines()
    checks, remediation = chunks[1], chunks[2]
    assert "- Run SHOW REPLICA STATUS" in checks.text and "mysql -e" in checks.text
    # line numbers point into the HTML source
    assert "<h2>Checks</h2>" in source[checks.line_start - 1]
    assert "replica_parallel_workers" in "\n".join(source[remediation.line_start - 1 : remediation.line_end])


def test_pdf_pages_lines_and_numbered_headings() -> None:
    data = make_pdf([["1 Overview", "ZooKeeper keeps snapshots.", "2 Purge", "Run zkCleanup.sh -n 3 to purge."],
                     ["3 Rollback", "Restore the archive into version-2."]])
    kb = KnowledgeBase()
    assert kb.add_bytes("zk-guide.pdf", data) == 3
    [hit] = kb.search("restore archive", 1)
    assert hit.heading == "3 Rollback" and hit.page == 2
    assert hit.citation.endswith("(p. 2)")
    assert hit.text.splitlines() == ["3 Rollback", "Restore the archive into version-2."]
    purge = kb.search("zkCleanup purge", 1)[0]
    assert (purge.heading, purge.page, purge.line_start, purge.line_end) == ("2 Purge", 1, 3, 4)


def test_broken_pdf_is_a_validation_error() -> None:
    with pytest.raises(ValidationFailed):
        load_bytes("broken.pdf", b"%PDF-1.4\nthis is not a pdf")


def test_plain_text_regulation_headings_and_gb18030() -> None:
    text = "运维管理规定\n\n第一章 总则\n生产变更须经审批。\n\n第二章 变更窗口\n第三条 变更须在窗口内执行。\n"
    doc = load_bytes("规定.txt", text.encode("gb18030"))
    chunks = chunk_document(doc)
    assert [c.heading for c in chunks] == ["规定", "第一章 总则", "第二章 变更窗口 > 第三条"]
    assert chunks[1].text == "第一章 总则\n生产变更须经审批。"


def test_unsupported_type_is_rejected() -> None:
    with pytest.raises(ValidationFailed, match="unsupported document type"):
        load_bytes("slides.pptx", b"PK\x03\x04")
