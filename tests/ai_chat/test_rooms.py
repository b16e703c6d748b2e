"""What ai_chat adds to realtime rooms: the user's running generations."""

import pytest

from ai_chat.models import AIConversation, AIMessage
from ai_chat.rooms import generations_running

pytestmark = pytest.mark.django_db


def test_a_user_snapshot_lists_only_their_running_generations(user, other_user):
    """A streaming assistant message is a running generation; a finished one, or another
    user's, is not."""
    mine = AIConversation.objects.create(user=user, kind="course")
    theirs = AIConversation.objects.create(user=other_user, kind="course")
    running = AIMessage.objects.create(conversation=mine, role="assistant", status="streaming")
    AIMessage.objects.create(conversation=mine, role="assistant", status="completed")
    AIMessage.objects.create(conversation=theirs, role="assistant", status="streaming")
    assert generations_running(user=user, room_id=user.pk) == [
        {"conversation_id": str(mine.pk), "message_id": str(running.pk), "kind": "course"}
    ]
