#!/usr/bin/env bash
# A deploy script in the style of Azure ML's published examples (az ml CLI v2). The test
# runs it unmodified with `az` resolving to devkit's shim.
set -euo pipefail

ENDPOINT_NAME="$1"
RG=my-resource-group
WS=my-workspace

az configure --defaults group=$RG workspace=$WS

az ml model create --name diabetes-model --version 1 --path model-1/model -g $RG -w $WS
az ml environment create -f environment.yml -g $RG -w $WS

az ml online-endpoint create -n "$ENDPOINT_NAME" -g $RG -w $WS
az ml online-deployment create -f blue.yml -e "$ENDPOINT_NAME" --all-traffic \
  --set instance_count=1 -g $RG -w $WS

STATE=$(az ml online-endpoint show -n "$ENDPOINT_NAME" --query provisioning_state -o tsv)
if [[ "$STATE" != "Succeeded" ]]; then
  echo "endpoint is $STATE" >&2
  exit 1
fi

echo "invoke: $(az ml online-endpoint invoke -n "$ENDPOINT_NAME" --request-file sample-request.json)"

# Canary: green with 10% of the traffic.
az ml online-deployment create -f green.yml -e "$ENDPOINT_NAME" \
  --set environment_variables.CANARY=yes -g $RG -w $WS
az ml online-endpoint update -n "$ENDPOINT_NAME" --traffic "blue=90 green=10" -g $RG -w $WS
az ml online-deployment update -n green -e "$ENDPOINT_NAME" --set instance_count=2
echo "green: $(az ml online-endpoint invoke -n "$ENDPOINT_NAME" -d green -r sample-request.json -o tsv)"

KEY=$(az ml online-endpoint get-credentials -n "$ENDPOINT_NAME" --query primaryKey -o tsv)
SCORING_URI=$(az ml online-endpoint show -n "$ENDPOINT_NAME" --query scoring_uri -o tsv)
echo "curl: $(curl -sf -X POST "$SCORING_URI" -H "Authorization: Bearer $KEY" \
  -H "Content-Type: application/json" -d @sample-request.json)"
echo "traffic: $(az ml online-endpoint show -n "$ENDPOINT_NAME" --query traffic -o json | tr -d ' \n')"
echo "green replicas: $(az ml online-deployment show -n green -e "$ENDPOINT_NAME" --query instance_count -o tsv)"
az ml online-deployment get-logs -n blue -e "$ENDPOINT_NAME" --lines 5 > /dev/null

az ml online-endpoint update -n "$ENDPOINT_NAME" --traffic "blue=100"
az ml online-deployment delete -n green -e "$ENDPOINT_NAME" --yes --no-wait
az ml online-endpoint delete -n "$ENDPOINT_NAME" --yes --no-wait
echo done
