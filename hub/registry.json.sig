{
 "signatures": [
  {
   "keyid": "09cd24ad9f853ce9",
   "sha256": "6d699be74103e88cb918ae8de029118cfb2645b4f8d4df642487928237eed551",
   "sig": "g4HEQTYMHrPXQHBvX6rj+dpGDlwXm2/RD4n8u9A6aNegW55+SsDZ6H97HAmUAHmg1O4nIVknNdbwOY3H+3MFCw=="
  }
 ]
}
