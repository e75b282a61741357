#!/usr/bin/env python3
"""Writes a tree for timing `schema/cel-rule`: one CRD with CEL rules (on `spec`, under
`items`, under `additionalProperties`, a fieldPath rule and a transition rule) and N custom
resources of its kind, one file each, all valid.

    python3 scripts/gen-cel-crs.py --crs 1000 --out /tmp/cel-bench [--no-rules]

`--no-rules` writes the same CRD without its `x-kubernetes-validations`, the baseline.
"""
import argparse
import os

CRD = """apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: scalers.example.com
spec:
  group: example.com
  names: {kind: Scaler, plural: scalers}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              x-kubernetes-validations:
                - rule: self.minReplicas <= self.maxReplicas
                  message: minReplicas must not exceed maxReplicas
                - rule: "!has(self.mode) || self.mode in ['fast', 'slow']"
                  fieldPath: .mode
                - rule: self.name == oldSelf.name
              properties:
                name: {type: string}
                minReplicas: {type: integer, default: 1}
                maxReplicas: {type: integer, default: 10}
                mode: {type: string}
                endpoints:
                  type: array
                  items:
                    type: object
                    x-kubernetes-validations:
                      - rule: self.port > 0 && self.port < 65536
                    properties:
                      name: {type: string}
                      port: {type: integer}
                labels:
                  type: object
                  additionalProperties:
                    type: string
                    x-kubernetes-validations:
                      - rule: self.size() <= 63
"""

CR = """apiVersion: example.com/v1
kind: Scaler
metadata:
  name: scaler-{i}
  namespace: tenant-{i}
spec:
  name: scaler-{i}
  minReplicas: 1
  maxReplicas: {max}
  mode: fast
  endpoints:
    - {{name: http, port: 8080}}
    - {{name: metrics, port: 9090}}
  labels:
    team: team-{i}
    tier: premium
"""


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--crs", type=int, default=1000)
    p.add_argument("--out", required=True)
    p.add_argument("--no-rules", action="store_true")
    a = p.parse_args()
    crd = CRD
    if a.no_rules:
        crd = "\n".join(
            line for line in CRD.splitlines() if "rule:" not in line and "x-kubernetes-validations" not in line
            and "message:" not in line and "fieldPath:" not in line
        ) + "\n"
    os.makedirs(os.path.join(a.out, "apps-repo", "crds"), exist_ok=True)
    os.makedirs(os.path.join(a.out, "apps-repo", "scalers"), exist_ok=True)
    with open(os.path.join(a.out, "apps-repo", "crds", "scalers.yaml"), "w") as f:
        f.write(crd)
    for i in range(1, a.crs + 1):
        with open(os.path.join(a.out, "apps-repo", "scalers", f"scaler-{i}.yaml"), "w") as f:
            f.write(CR.format(i=i, max=2 + i % 5))


if __name__ == "__main__":
    main()
