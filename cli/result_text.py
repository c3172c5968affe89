"""Human-readable lines for a process-issue result (CLI and demo output)."""

from __future__ import annotations

from flows.run_result import RunResult


def describe_result(result: RunResult) -> list[str]:
    outcome = result.get("outcome")
    lines = [f"outcome: {outcome} (history #{result.get('history_id')})"]
    if outcome in {"already_completed", "already_processing"}:
        if result.get("pr_url"):
            lines.append(f"pull request: {result['pr_url']}")
        return lines
    if outcome == "refused":
        return [*lines, f"reason: {result.get('reason')}"]
    if outcome == "rejected":
        return [*lines, f"not approved: {result.get('error')}; nothing was edited"]
    lines.append(f"branch: {result.get('branch')}")
    if result.get("commit"):
        reused = " (already on the branch, no new commit)" if result.get("commit_reused") else ""
        lines.append(f"commit: {result['commit']}{reused}")
    if result.get("pr"):
        lines.append(f"pull request: {result['pr']['url']}  \"{result['pr']['title']}\"")
    for file in result.get("files", []):
        if file["status"] == "applied":
            detail = (f"{file['edit_count']} edit(s), {file['hunk_count']} hunk(s), "
                      f"{file['final_encoding']}, eol {file['eol']}")
        else:
            detail = f"FAILED: {file['error']}"
        lines.append(f"  {file['path']}: {detail}")
    unpriced = result.get("unpriced_calls") or 0
    lines.append(f"LLM: {result.get('llm_calls', 0)} call(s), {result.get('cache_hits', 0)} "
                 f"cache hit(s), {result.get('tokens', 0)} tokens, ${result.get('cost_usd')}"
                 + (f" + {unpriced} unpriced call(s)" if unpriced else ""))
    if result.get("cost_estimate_method"):
        lines.append(f"estimate before the edits: {_usd(result.get('cost_estimate_usd'))}, "
                     f"worst case {_usd(result.get('cost_estimate_worst_usd'))} "
                     f"({result['cost_estimate_method']})")
    if result.get("error"):
        lines.append(f"error: {result['error']}")
    return lines


def _usd(amount: str | None) -> str:
    return "unpriced" if amount is None else f"${amount}"
