"""The tutor chat: free-text answers, `typing` frames, and anonymous use where allowed."""

from ai_chat.consumers.base import BaseAIConsumer


class ChatConsumer(BaseAIConsumer):
    kind = "chat"
    typing_frames = True
    anonymous_setting = "CHAT_ALLOW_ANONYMOUS"
