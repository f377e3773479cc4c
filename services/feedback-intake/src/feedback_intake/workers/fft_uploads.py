"""FFT upload jobs, run in the API process: started when an upload is received, resumed
on start-up, cancelled on shutdown (each resumes after its last committed chunk)."""

import asyncio
import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from feedback_intake.handlers.fft_returns import process_upload
from feedback_intake.models import FftUpload
from hub_shared.logging import get_logger
from hub_shared.organisations import Organisations

log = get_logger(__name__)


class UploadRunner:
    """Runs upload jobs in the API process; on start-up it resumes unfinished ones."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], organisations: Organisations) -> None:
        self._sessions = sessions
        self._organisations = organisations
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self, upload_id: uuid.UUID) -> None:
        task = asyncio.create_task(self._run(upload_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, upload_id: uuid.UUID) -> None:
        try:
            await process_upload(self._sessions, upload_id, self._organisations)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("FFT upload failed", upload_id=str(upload_id))
            async with self._sessions() as session, session.begin():
                upload = await session.get(FftUpload, upload_id)
                if upload is not None:
                    upload.status = "failed"
                    upload.errors = [
                        *upload.errors,
                        {"row": None, "errors": [{"field": "(job)", "message": repr(exc)[:500], "type": "failed"}]},
                    ]
                    upload.finished_at = datetime.now(UTC)

    async def resume_unfinished(self) -> None:
        async with self._sessions() as session:
            pending = (
                await session.scalars(select(FftUpload.id).where(FftUpload.status.in_(["queued", "running"])))
            ).all()
        for upload_id in pending:
            self.start(upload_id)

    async def stop(self) -> None:
        """Cancel running jobs: each resumes after its last committed chunk on the next start."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
