"""A fuzz of the JSON API from its own OpenAPI document: schemathesis (PyPI) generates requests for every operation,
as each role, against a server of its own on loopback, and no answer may be a 5xx. Bounded: a fixed number of
examples per operation and a timeout per request."""
import re
import subprocess

import pytest

from conftest import ROOT, demo_server, login

ROLES = ["nurse-SH-P01", "health-office", "counsellor-SH-J01", "demo-admin"]
EXAMPLES = 25


@pytest.fixture(scope="module")
def fuzz_server():
    """The fuzz changes data (uploads, cases advanced at random): it gets its own demo database."""
    with demo_server() as base:
        yield base


def issue_token(page, base, account):
    """What an administrator does on the accounts page: issue a token for a script."""
    page.goto(base + "/accounts")
    row = page.locator("tr", has=page.locator(f"input[name=login][value='{account}']"))
    with page.expect_navigation():
        row.locator("button[value=token]").click()
    found = re.search(r"sht_[A-Za-z0-9_]+", page.content())
    assert found, f"no token issued for {account}"
    return found.group(0)


def test_the_api_never_answers_5xx_to_generated_requests(fuzz_server, page, tmp_path):
    login(page, fuzz_server, "demo-admin")
    tokens = {account: issue_token(page, fuzz_server, account) for account in ROLES}
    schemathesis = ROOT / ".venv-e2e" / "bin" / "schemathesis"
    failures = []
    for account, token in tokens.items():
        run = subprocess.run([str(schemathesis), "run", fuzz_server + "/api/openapi.json", "--url", fuzz_server,
                              "--checks", "not_a_server_error", "--max-examples", str(EXAMPLES), "--seed", "20261203",
                              "--request-timeout", "20", "--header", f"Authorization: Bearer {token}",
                              "--report", "junit", "--report-dir", str(tmp_path / account), "--no-color"],
                             capture_output=True, text=True, timeout=600, cwd=tmp_path)  # its cache stays out of the repository
        summary = re.search(r"Test cases:\s*\n\s*(.+)", run.stdout)
        print(f"{account}: {summary.group(1) if summary else run.stdout[-800:]}")
        if run.returncode != 0:
            failures.append(f"{account}:\n{run.stdout[-6000:]}\n{run.stderr[-2000:]}")
    assert not failures, "\n\n".join(failures)
