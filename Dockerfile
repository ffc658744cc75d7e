# The vasowatch worker image (used by docker-compose.yml and deploy/k8s/).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY stream_app ./stream_app
COPY rules ./rules
RUN pip install --no-cache-dir . && useradd --system --uid 10001 vasowatch
USER vasowatch
ENV VASOWATCH_RULES_DIR=/app/rules \
    VASOWATCH_DATA_DIR=/tmp/vasowatch \
    VASOWATCH_LOG_FORMAT=json
EXPOSE 6066
ENTRYPOINT ["vasowatch"]
CMD ["worker"]
