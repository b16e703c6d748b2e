# The Lectern web image: daphne serving config.asgi. See docker-compose.yml.
FROM python:3.12-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN DEBUG=true python manage.py collectstatic --no-input -v0
EXPOSE 8000
CMD ["sh", "-c", "python manage.py migrate --no-input && exec daphne -v 0 -b 0.0.0.0 -p 8000 --websocket-max-message-size ${DAPHNE_WEBSOCKET_MAX_MESSAGE_SIZE:-1048576} --websocket-max-frame-size ${DAPHNE_WEBSOCKET_MAX_FRAME_SIZE:-1048576} config.asgi:application"]
