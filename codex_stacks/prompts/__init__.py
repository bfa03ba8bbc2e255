"""Agent prompts, the codex config.toml and the agent run; no Pulumi imports."""

from codex_stacks.prompts.codex_config import render_codex_config
from codex_stacks.prompts.context import KINDS, FailedComponent, InfraReport, PromptContext, build_context
from codex_stacks.prompts.render import BUNDLED_PROMPTS, RenderedPrompt, render_prompt

__all__ = [
    "BUNDLED_PROMPTS",
    "KINDS",
    "FailedComponent",
    "InfraReport",
    "PromptContext",
    "RenderedPrompt",
    "build_context",
    "render_codex_config",
    "render_prompt",
]
