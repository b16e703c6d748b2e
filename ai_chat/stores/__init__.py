"""Where a generation endpoint keeps its conversations: the database for signed-in users
(`DatabaseStore`), the connection for anonymous tutor chats (`MemoryStore`). The consumer
serves every frame through a store, so the anonymous chat is the same code path, not a copy."""
