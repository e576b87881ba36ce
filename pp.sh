export PYTHONPATH=$(ls -d /tmp/wt-media/services/*/src /tmp/wt-media/libs/*/src /tmp/wt-media/apps/*/src | tr '\n' ':')/tmp/wt-media
