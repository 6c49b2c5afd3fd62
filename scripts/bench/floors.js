// Reference servers for the intake figure, measured in the same run as the relay: `raw` is node:http parsing the
// same JSON and answering 202; `nest` is NestJS + Express + a ValidationPipe over a five-field DTO, no database.
// Prints the port it listens on.
require('reflect-metadata');
const http = require('node:http');

const ACCEPTED = '{"job_id":"job_00000000000000000000000000000000","status":"queued"}';

function raw() {
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      JSON.parse(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(202, { 'content-type': 'application/json' }).end(ACCEPTED);
    });
  });
  server.listen(0, '127.0.0.1', () => process.stdout.write(`port ${server.address().port}\n`));
}

async function nest() {
  const { NestFactory } = require('@nestjs/core');
  const { Body, Controller, HttpCode, Module, Post, ValidationPipe } = require('@nestjs/common');
  const { IsArray, IsObject, IsOptional, IsString, Length } = require('class-validator');

  class FloorDto {}
  const field = (name, ...decorators) => decorators.forEach((decorate) => decorate(FloorDto.prototype, name));
  field('submission_id', IsString(), Length(1, 200));
  field('student_id', IsOptional(), IsString());
  field('file_refs', IsArray());
  field('metadata', IsOptional(), IsObject());
  field('webhook_url', IsString());

  class FloorController {
    create() {
      return JSON.parse(ACCEPTED);
    }
  }
  const descriptor = Object.getOwnPropertyDescriptor(FloorController.prototype, 'create');
  Reflect.decorate([Post(), HttpCode(202)], FloorController.prototype, 'create', descriptor);
  Body()(FloorController.prototype, 'create', 0);
  Reflect.defineMetadata('design:paramtypes', [FloorDto], FloorController.prototype, 'create');
  Controller('v1/reviews')(FloorController);
  class FloorModule {}
  Module({ controllers: [FloorController] })(FloorModule);

  const app = await NestFactory.create(FloorModule, { logger: false });
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));
  await app.listen(0, '127.0.0.1');
  process.stdout.write(`port ${app.getHttpServer().address().port}\n`);
}

if (process.argv[2] === 'nest') nest();
else raw();
