# The bot environment's Python, for dvc.yaml's stages (`sh scripts/bot-python.sh -m pipeline.x`).
# DVC runs queued and --temp experiments in a copy of the project under .dvc/tmp/exps/, which
# holds no .venv and no Rasa cache: both are taken from the project the copy was made from.
case $PWD in
    */.dvc/tmp/exps/*) root=${PWD%%/.dvc/tmp/exps/*} ;;
    *) root=$PWD ;;
esac
if [ ! -x "$root/.venv/bin/python" ]; then
    echo "ERROR: no bot environment in $root/.venv: run 'make install' there" >&2
    exit 127
fi
export RASA_CACHE_DIRECTORY="${RASA_CACHE_DIRECTORY:-$root/.rasa/cache}"
exec "$root/.venv/bin/python" "$@"
