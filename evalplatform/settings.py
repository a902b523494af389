"""Settings read from the environment (EVAL_*), with safe defaults for a laptop."""

from __future__ import annotations

import secrets
import time
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from pydantic import Field, PrivateAttr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_DIR = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Everything an operator may set. Unset values fall back to a local development set-up."""

    model_config = SettingsConfigDict(env_prefix="EVAL_", env_file=None, extra="ignore")

    var_dir: Path = PROJECT_DIR / "var"
    database_url: str = ""
    secret_key: str = ""
    upload_dir: Path | None = None
    upload_max_bytes: int = 20 * 1024 * 1024
    #: The largest request body that carries no file (a form's text, a JSON call): a body
    #: over it is refused with 413 before it is read. Bodies with files may be larger by
    #: the files they may carry (``web.forms.body_limit``).
    request_max_bytes: int = Field(10 * 1024 * 1024, ge=64 * 1024)
    default_language: str = "zh_CN"
    session_max_age: int = 8 * 3600
    #: 回避: years after a relationship with the supplier or the purchasing department ended
    #: (employment, directorship, supervision, control, kinship) during which an expert is
    #: still avoided for its evaluations
    avoidance_years: int = Field(3, ge=1, le=10)
    #: 申诉期: working days after a result's publication in which the supplier may appeal
    appeal_working_days: int = Field(5, ge=1, le=30)
    #: The one-year loan prime rate (贷款市场报价利率, LPR), percent a year: a contract's
    #: agreed late-payment interest may not be below it (保障中小企业款项支付条例 第十五条).
    #: 3.0 since 20 May 2025; set it when the rate changes.
    lpr_one_year_percent: Decimal = Field(Decimal("3.0"), ge=0, le=20)
    cookie_secure: bool = False
    login_max_failures: int = Field(5, ge=1)
    login_lockout_seconds: int = Field(15 * 60, ge=1)
    #: failed sign-ins from one network address, over any accounts (password spraying), before
    #: that address is locked out for ``login_lockout_seconds``: high enough for an office
    #: behind one address, low enough to stop guessing across the user list
    login_address_max_failures: int = Field(30, ge=1)
    #: Threads per worker process for the synchronous handlers and database calls (the
    #: anyio thread limiter), and the database connections each worker keeps open: one per
    #: thread, so a thread never waits for a connection nor opens one per request (up to
    #: twice as many in a burst). Workers × 2 × this must stay under PostgreSQL's
    #: ``max_connections`` (100 by default).
    worker_threads: int = Field(16, ge=1, le=200)
    #: Seconds between two rounds of each worker's mixer of survey answers
    #: (``surveys.mixing``: until its round, an answer is tied to its code in the database's
    #: own bookkeeping). Short rounds keep each rewrite small under load: at 3,000 answers a
    #: second, 1 s kept the p99 of submissions where no mixing had it, 5 s did not
    #: (bench/README.md). 0: no mixer in the workers (``evalplatform mix-answers`` instead).
    mix_seconds: float = Field(1.0, ge=0, le=3600)
    templates_dir: Path = PROJECT_DIR / "templates"
    node_modules_dir: Path = PROJECT_DIR / "node_modules"
    #: The key generated into var/, once read (it is read on every survey submission).
    _generated_key: str | None = PrivateAttr(None)

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        self.var_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{self.var_dir / 'evalplatform.db'}"

    def resolved_secret_key(self) -> str:
        """The signing key: EVAL_SECRET_KEY, or one generated once into var/ (never committed)."""
        if self.secret_key:
            return self.secret_key
        if self._generated_key is None:
            self._generated_key = self._read_or_generate_key()
        return self._generated_key

    def _read_or_generate_key(self) -> str:
        self.var_dir.mkdir(parents=True, exist_ok=True)
        path = self.var_dir / "secret_key"
        if not path.exists():
            key = secrets.token_urlsafe(48)
            try:
                with path.open("x", encoding="ascii") as fh:  # exclusive: workers race safely
                    fh.write(key)
                path.chmod(0o600)
            except FileExistsError:
                pass
        for _attempt in range(100):  # another worker may have created it and not yet written it
            key = path.read_text(encoding="ascii").strip()
            if key:
                return key
            time.sleep(0.02)
        raise RuntimeError(f"{path} is empty: delete it (a new key is then made) or set "
                           "EVAL_SECRET_KEY")

    def resolved_upload_dir(self) -> Path:
        path = self.upload_dir or (self.var_dir / "uploads")
        path.mkdir(parents=True, exist_ok=True)
        return path


@lru_cache
def get_settings() -> Settings:
    return Settings()
