{
 "signatures": [
  {
   "keyid": "038a857318db992f",
   "sha256": "c42606c19cc0f3ab88c12762c36f177345439bb2f07a6434fe29b7f72d784959",
   "sig": "KntG/X2mmiqS8cxwGAdUdgmIQD4SBoOLLp26rYqNRXYHrn171WvZmwg3063+p4Cp0eIvbrRJ9pPoOJMtQfu6Dw=="
  }
 ]
}
