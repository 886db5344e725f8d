# The same steps as the README: install the package, then `statuspage serve`.
FROM python:3.12-slim

RUN useradd --create-home --uid 10001 statuspage \
    && mkdir /data \
    && chown statuspage /data

WORKDIR /app
COPY . .
RUN pip install --no-cache-dir .

USER statuspage
ENV STATUSPAGE_CONFIG=/app/checks.toml \
    STATUSPAGE_DATA_DIR=/data
VOLUME /data
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=10s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"

CMD ["statuspage", "serve", "--host", "0.0.0.0"]
